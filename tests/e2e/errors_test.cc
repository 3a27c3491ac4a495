// Errors that reach the person who needs them (issue 14), through the real gateway: a roster
// refused for hundreds of rows reaches an ordinary gRPC client of the gateway (default channel
// arguments) and an HTTP client with the first 100 rows and a count of the rest, and CheckRoster
// gives every problem as a CSV (each naming its line and the column as the file named it, an
// ID-card number never shown whole), in the importer's scope only. Oversized uploads (an 8 MiB
// line, a 10 KB header cell) get a bounded 413 or 400, never 429, and never change the gateway's
// readiness while another client's calls go on being served.

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/csv.h"
#include "services/common/status.h"
#include "tests/e2e/platform.h"
#include "tests/e2e/stories.h"

namespace shidang::e2e {
namespace {

namespace http = boost::beast::http;
namespace pv1 = profile::v1;
using common::v1::Principal;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using PStub = pv1::ProfileService::Stub;

constexpr char kBom[] = "\xEF\xBB\xBF";
constexpr int kBadRows = 500;

// What one bad row of BadRoster is wrong in, and how its problem must read.
struct ExpectedProblem {
  int64_t row = 0;
  std::string column;
  std::string value;
};

// Row i's birth date, YYYYMMDD: unique for i < 600, so that IdCard (serial % 100) gives each row
// its own number.
std::string BirthDigits(int i) {
  return absl::StrFormat("%04d%02d%02d", 1970 + i % 25, 1 + i % 12, 10 + i / 300);
}

// A teachers file whose headers are the file's own spellings (全国教师编号, 身份证号码, 学校代码),
// with kBadRows rows, each wrong in exactly one way: an ID-card number with a wrong check
// character, an impossible birth date, an unknown school, and (the last row) a national teacher
// id another teacher of the county already holds.
std::string BadRoster(const std::string& county, const std::string& taken_national_id,
                      std::vector<ExpectedProblem>* expected) {
  std::string csv =
      "全国教师编号,姓名,性别,出生日期,身份证号码,参加工作时间,学校代码,调入本校时间,学段,"
      "任教学科,是否在编,任职状态\n";
  for (int i = 0; i < kBadRows; ++i) {
    const int64_t row = i + 2;  // the header is row 1
    const std::string birth_digits = BirthDigits(i);
    const std::string birth = absl::StrCat(birth_digits.substr(0, 4), "-",
                                           birth_digits.substr(4, 2), "-", birth_digits.substr(6));
    std::string id_card = IdCard(county, birth_digits, false, i + 1);
    std::string national = absl::StrCat("E", county, "-", i);
    std::string birth_cell = birth;
    std::string school = county + "0001";
    ExpectedProblem want{row, "", ""};
    if (i == kBadRows - 1) {
      national = taken_national_id;
      want = {row, "全国教师编号 (national_teacher_id)", taken_national_id};
    } else if (i % 3 == 0) {
      id_card.back() = id_card.back() == '0' ? '1' : '0';
      want = {row, "身份证号码 (id_card_number)", ""};  // masked: checked apart
    } else if (i % 3 == 1) {
      birth_cell = absl::StrFormat("%04d-13-01", 1970 + i % 25);
      want = {row, "出生日期 (birth_date)", birth_cell};
    } else {
      school = "9999999999";
      want = {row, "学校代码 (school)", school};
    }
    expected->push_back(want);
    absl::StrAppend(&csv, national, ",教师", i, ",女,", birth_cell, ",", id_card, ",2012-09-01,",
                    school, ",2015-09-01,小学,语文,是,在岗\n");
  }
  return csv;
}

class ErrorsTest : public PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    if (HasFatalFailure()) return;
    // An ordinary client: gRPC's default limits, not the kit's large-trailer channel.
    plain_channel_ = grpc::CreateChannel(platform().gateway().grpc_address(),
                                         grpc::InsecureChannelCredentials());
    plain_ = pv1::ProfileService::NewStub(plain_channel_);
  }

  HttpReply Send(http::verb verb, const std::string& target, const Principal& who,
                 const std::string& body, Headers headers = {}) {
    HttpClient client(platform().gateway().http_port);
    headers.emplace_back("Authorization", "Bearer " + platform().Token(who));
    return client.Send(verb, target, body, headers);
  }

  std::shared_ptr<grpc::Channel> plain_channel_;
  std::unique_ptr<PStub> plain_;
};

std::string RosterJson(const std::string& county, const std::string& csv) {
  return absl::StrCat(R"({"countyId":")", county, R"(","kind":"ROSTER_KIND_TEACHERS","csv":")",
                      absl::Base64Escape(csv), R"("})");
}

// Checks the first problems (as many as the bounds of status.h let through, at least 10) and the
// count of the rest in a refusal's details; returns how many are listed.
int ExpectFirstRowsAndCount(const common::v1::BadRequest& bad,
                            const std::vector<ExpectedProblem>& expected) {
  const int listed = bad.row_violations_size();
  EXPECT_GE(listed, 10);
  EXPECT_LE(listed, kMaxRowViolations);
  for (int i = 0; i < listed; ++i) {
    EXPECT_EQ(bad.row_violations(i).row(), expected[i].row);
    EXPECT_EQ(bad.row_violations(i).column(), expected[i].column);
  }
  EXPECT_EQ(bad.field_violations_size(), 1);
  if (bad.field_violations_size() == 1) {
    EXPECT_EQ(bad.field_violations(0).rule(), "more_violations");
    EXPECT_EQ(bad.field_violations(0).description(),
              absl::StrCat(kBadRows, " problems (rows); the first ", listed, " are listed, ",
                           kBadRows - listed, " more are not"));
  }
  return listed;
}

// Checks a CheckRoster CSV against every expected problem, in row order.
void ExpectEveryProblemInCsv(const std::string& content,
                             const std::vector<ExpectedProblem>& expected,
                             const std::vector<std::string>& id_cards_not_shown) {
  ASSERT_THAT(content, StartsWith(kBom));
  absl::StatusOr<csv::CsvTable> table = csv::ParseCsv(content.substr(3));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->header, (std::vector<std::string>{"行号", "列", "值", "问题"}));
  ASSERT_EQ(table->rows.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::vector<std::string>& cells = table->rows[i].cells;
    ASSERT_EQ(cells.size(), 4u) << i;
    EXPECT_EQ(cells[0], absl::StrCat(expected[i].row));
    EXPECT_EQ(cells[1], expected[i].column);
    if (expected[i].column == "身份证号码 (id_card_number)") {
      EXPECT_THAT(cells[2], HasSubstr("**********")) << "masked";
    } else {
      EXPECT_EQ(cells[2], expected[i].value);
    }
    EXPECT_FALSE(cells[3].empty());
  }
  for (const std::string& number : id_cards_not_shown) {
    EXPECT_THAT(content, Not(HasSubstr(number.substr(0, 17))));
  }
}

TEST_F(ErrorsTest, ARosterRefusedForManyRowsReachesEveryClientAndCheckRosterListsEveryRow) {
  County county;
  ImportCounty(platform(), "330881", &county);
  ASSERT_FALSE(HasFatalFailure());
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330881");
  std::vector<ExpectedProblem> expected;
  const std::string csv = BadRoster("330881", "N330881-1", &expected);
  std::vector<std::string> bad_cards;
  for (int i = 0; i < kBadRows - 1; i += 3) {
    bad_cards.push_back(IdCard("330881", BirthDigits(i), false, i + 1));
  }

  // The import over the gateway's gRPC port, by a client with gRPC's default limits.
  pv1::ImportRosterRequest import;
  import.set_county_id("330881");
  import.set_kind(pv1::ROSTER_KIND_TEACHERS);
  import.set_csv(csv);
  import.set_request_id("errors-many-rows");
  pv1::ImportRosterResponse imported;
  grpc::Status s = CallWith(*plain_, &PStub::ImportRoster, platform().Token(hr), import, &imported);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("CheckRoster"));
  common::v1::BadRequest bad;
  ASSERT_TRUE(RpcStatusOf(s).details_size() > 0 && RpcStatusOf(s).details(0).UnpackTo(&bad));
  const int listed = ExpectFirstRowsAndCount(bad, expected);
  EXPECT_LT(listed, kMaxRowViolations) << "cut to the rows that fit gRPC's default 8 KiB";
  // A client that takes large trailers (the kit's channel) gets all 100 the service sends.
  s = CallWith(platform().profile_stub(), &PStub::ImportRoster, platform().Token(hr), import,
               &imported);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  ASSERT_TRUE(RpcStatusOf(s).details_size() > 0 && RpcStatusOf(s).details(0).UnpackTo(&bad));
  EXPECT_EQ(ExpectFirstRowsAndCount(bad, expected), kMaxRowViolations);

  // The same over HTTP/JSON.
  HttpReply reply = Send(http::verb::post, "/v1/rosters:import", hr, RosterJson("330881", csv));
  ASSERT_EQ(reply.status, 400) << reply.body.substr(0, 500);
  // The HTTP front has no trailer limit: it carries all the rows the service sends.
  EXPECT_THAT(reply.body, HasSubstr(absl::StrCat("the first ", kMaxRowViolations, " are listed, ",
                                                 kBadRows - kMaxRowViolations, " more are not")));

  // Every problem as CSV: over gRPC (the download) and HTTP (Accept: text/csv), the same bytes.
  pv1::CheckRosterRequest check;
  check.set_county_id("330881");
  check.set_kind(pv1::ROSTER_KIND_TEACHERS);
  check.set_csv(csv);
  pv1::CheckRosterResponse checked;
  s = CallWith(*plain_, &PStub::CheckRoster, platform().Token(hr), check, &checked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(checked.rows(), kBadRows);
  EXPECT_EQ(checked.problems(), kBadRows);
  ExpectEveryProblemInCsv(checked.download().content(), expected, bad_cards);
  reply = Send(http::verb::post, "/v1/rosters:check", hr, RosterJson("330881", csv),
               {{"Accept", "text/csv"}});
  ASSERT_EQ(reply.status, 200) << reply.body.substr(0, 500);
  EXPECT_THAT(reply.Header("Content-Type"), StartsWith("text/csv"));
  EXPECT_EQ(reply.body, checked.download().content());

  // Nothing was written: the county still has its three teachers.
  pv1::ListTeachersRequest list;
  list.set_county_id("330881");
  pv1::ListTeachersResponse teachers;
  s = CallWith(*plain_, &PStub::ListTeachers, platform().Token(hr), list, &teachers);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(teachers.teachers_size(), 3);
}

TEST_F(ErrorsTest, CheckRosterIsInTheImportersScopeOnly) {
  County county;
  ImportCounty(platform(), "330882", &county);
  ASSERT_FALSE(HasFatalFailure());
  std::vector<ExpectedProblem> expected;
  pv1::CheckRosterRequest check;
  check.set_county_id("330882");
  check.set_kind(pv1::ROSTER_KIND_TEACHERS);
  check.set_csv(BadRoster("330882", "N330882-1", &expected));
  const std::string body = RosterJson("330882", check.csv());
  const Principal other_county = HrP(common::v1::ROLE_COUNTY_HR, "330881");
  const Principal school_admin = SchoolAdminP(county.school_ids.at("3308820001"));
  const Principal teacher = TeacherP(county.teacher_ids.at("N330882-1"));
  for (const Principal& who : {other_county, school_admin, teacher}) {
    pv1::CheckRosterResponse checked;
    grpc::Status s = CallWith(*plain_, &PStub::CheckRoster, platform().Token(who), check, &checked);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << common::v1::Role_Name(who.role()) << ": " << s.error_message();
    EXPECT_FALSE(checked.has_download());
    HttpReply reply =
        Send(http::verb::post, "/v1/rosters:check", who, body, {{"Accept", "text/csv"}});
    EXPECT_EQ(reply.status, 403) << common::v1::Role_Name(who.role());
    EXPECT_THAT(reply.body, Not(HasSubstr("行号")));
  }
  // The city's HR may, as they may import.
  pv1::CheckRosterResponse checked;
  grpc::Status s =
      CallWith(*plain_, &PStub::CheckRoster,
               platform().Token(HrP(common::v1::ROLE_CITY_HR, "330800")), check, &checked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(checked.problems(), kBadRows);
}

// Polls /readyz and keeps another client's reads going until stopped; counts what failed.
class ReadinessWatch {
 public:
  ReadinessWatch(int http_port, const std::string& token, const std::string& county)
      : readyz_([this, http_port] {
          HttpClient client(http_port);
          while (!stop_) {
            const int status = client.Send(http::verb::get, "/readyz").status;
            ++probes_;
            if (status != 200) ++not_ready_;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }),
        reads_([this, http_port, token, county] {
          HttpClient client(http_port);
          while (!stop_) {
            const HttpReply reply = client.Send(http::verb::get, "/v1/counties/" + county, "",
                                                {{"Authorization", "Bearer " + token}});
            ++reads_served_;
            if (reply.status != 200) ++reads_failed_;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }) {}

  ~ReadinessWatch() { Stop(); }
  void Stop() {
    stop_ = true;
    if (readyz_.joinable()) readyz_.join();
    if (reads_.joinable()) reads_.join();
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> probes_{0}, not_ready_{0}, reads_served_{0}, reads_failed_{0};

 private:
  std::thread readyz_;
  std::thread reads_;
};

TEST_F(ErrorsTest, OversizedUploadsAreRefusedBoundedAndNeverChangeReadiness) {
  County county;
  ImportCounty(platform(), "330883", &county);
  ASSERT_FALSE(HasFatalFailure());
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330883");
  const std::string other =
      platform().Token(TeacherP(county.teacher_ids.at("N330883-2")), absl::Hours(1));
  ReadinessWatch watch(platform().gateway().http_port, other, "330883");

  // An 8 MiB line over HTTP: its JSON body is over the 8 MiB limit, named in the answer.
  const std::string line(8 << 20, 'x');
  HttpReply reply = Send(http::verb::post, "/v1/rosters:import", hr, RosterJson("330883", line));
  EXPECT_EQ(reply.status, 413) << reply.body.substr(0, 300);
  EXPECT_THAT(reply.body, HasSubstr("8388608"));
  // A line just under it (its body within the limit) reaches the service: 400, bounded.
  const std::string long_line((6 << 20) - (64 << 10), 'y');
  reply = Send(http::verb::post, "/v1/rosters:import", hr, RosterJson("330883", long_line));
  EXPECT_EQ(reply.status, 400) << reply.body.substr(0, 300);
  EXPECT_LT(reply.body.size(), 8u << 10) << reply.body.substr(0, 300);
  EXPECT_THAT(reply.body, HasSubstr("at most 65536 bytes per cell"));
  // The 8 MiB line over the gateway's gRPC port: INVALID_ARGUMENT, bounded.
  pv1::ImportRosterRequest import;
  import.set_county_id("330883");
  import.set_kind(pv1::ROSTER_KIND_TEACHERS);
  import.set_csv(line);
  pv1::ImportRosterResponse imported;
  grpc::Status s = CallWith(*plain_, &PStub::ImportRoster, platform().Token(hr), import, &imported);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_LE(s.error_message().size(), kMaxErrorMessageBytes);
  EXPECT_THAT(s.error_message(), HasSubstr("at most 65536 bytes per cell"));
  EXPECT_LE(s.error_details().size(), 8u << 10);

  // A 10 KB header cell is not echoed whole, over either front.
  const std::string cell(10 << 10, 'h');
  const std::string csv = TeachersCsv("330883", {});
  const std::string wide = absl::StrCat(csv.substr(0, csv.find('\n')), ",", cell, "\n");
  reply = Send(http::verb::post, "/v1/rosters:import", hr, RosterJson("330883", wide));
  EXPECT_EQ(reply.status, 400) << reply.body.substr(0, 300);
  EXPECT_THAT(reply.body, Not(HasSubstr(cell.substr(0, 1024))));
  EXPECT_THAT(reply.body, HasSubstr("10240 bytes in all"));
  import.set_csv(wide);
  s = CallWith(*plain_, &PStub::ImportRoster, platform().Token(hr), import, &imported);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), Not(HasSubstr(cell.substr(0, 1024))));
  EXPECT_THAT(s.error_details(), Not(HasSubstr(cell.substr(0, 1024))));

  // Readiness held, and the other client was served throughout.
  watch.Stop();
  EXPECT_GT(watch.probes_.load(), 0);
  EXPECT_EQ(watch.not_ready_.load(), 0) << "of " << watch.probes_.load() << " /readyz probes";
  EXPECT_GT(watch.reads_served_.load(), 0);
  EXPECT_EQ(watch.reads_failed_.load(), 0) << "of " << watch.reads_served_.load() << " reads";
}

}  // namespace
}  // namespace shidang::e2e
