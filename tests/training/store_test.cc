// The training store's completion fast path (LedgerTransaction) against a real redis-server:
// what it writes when nothing changed since the heads were read, and that any write to a
// teacher of the county in between makes Redis refuse it whole.

#include "services/training/store.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/events.h"
#include "services/common/mutation.h"
#include "shidang/profile/v1/profile.pb.h"
#include "tests/kit/redis_server.h"

namespace shidang::training {
namespace {

constexpr char kCounty[] = "110101";
constexpr char kCourse[] = "C00ff-P1";

class LedgerTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"A", "B"}) {
      TeacherFactsRecord facts;
      facts.teacher_id = id;
      facts.county_id = kCounty;
      facts.name = id;
      facts.school_id = "S1";
      facts.hire_date = "2010-09-01";
      ASSERT_TRUE(store_.PutFacts(facts, false, WriteContext{"test", "", nullptr}).ok());
    }
  }

  // A course credit of `teacher`; its event is events[event_index].
  LedgerAppend Credit(const std::string& teacher, int64_t expected_length,
                      std::vector<common::v1::Event>* events) {
    LedgerAppend a;
    a.teacher_id = teacher;
    a.mark = absl::StrCat("c:", kCourse);
    a.entry.set_entry_id(absl::StrCat("E-", teacher));
    a.entry.set_teacher_id(teacher);
    a.entry.set_hours(24);
    a.expected_length = expected_length;
    if (expected_length >= 0) {
      a.tally = "tally-of-" + teacher;
      a.row = "row-of-" + teacher;
      a.policy_stamp = "ps1";
      profile::v1::ServiceSummary summary;
      summary.set_kind("training_cycle");
      common::v1::Event attachment;
      attachment.mutable_teacher_summary()->PackFrom(summary);
      a.summary_attachment = attachment.SerializeAsString();
    }
    a.event_index = static_cast<int>(events->size());
    common::v1::Event e = NewEvent("training", "training.credited", absl::Now());
    e.set_teacher_id(teacher);
    events->push_back(std::move(e));
    return a;
  }

  // Heads of A and B read on a new session that watches the county.
  std::unique_ptr<redis::Pool::Session> ReadWatched() {
    auto session = store_.HoldSession();
    EXPECT_TRUE(session.ok()) << session.status();
    if (!session.ok()) return nullptr;
    auto heads = store_.ReadHeads(kCounty, {"A", "B"}, kCourse, nullptr, session->get());
    EXPECT_TRUE(heads.ok()) << heads.status();
    return *std::move(session);
  }

  std::vector<std::string> Ledger(const std::string& teacher) {
    auto reply =
        redis_.pool().Command({"LRANGE", TrainingStore::LedgerKey(kCounty, teacher), "0", "-1"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    std::vector<std::string> out;
    for (size_t i = 0; reply.ok() && i < reply->size(); ++i) out.emplace_back((*reply)[i].str());
    return out;
  }
  std::vector<std::string> Fields(const std::string& teacher, const redis::Args& fields) {
    redis::Args command = {"HMGET", TrainingStore::FactsKey(kCounty, teacher)};
    command.insert(command.end(), fields.begin(), fields.end());
    auto reply = redis_.pool().Command(command);
    EXPECT_TRUE(reply.ok()) << reply.status();
    std::vector<std::string> out;
    for (size_t i = 0; reply.ok() && i < reply->size(); ++i) {
      out.emplace_back((*reply)[i].is_nil() ? "(nil)" : std::string((*reply)[i].str()));
    }
    return out;
  }
  std::vector<common::v1::Event> Published() {
    auto entries =
        redis_.pool().Command({"XRANGE", TrainingStore::CountyStreamKey(kCounty), "-", "+"});
    EXPECT_TRUE(entries.ok()) << entries.status();
    std::vector<common::v1::Event> out;
    for (size_t i = 0; entries.ok() && i < entries->size(); ++i) {
      auto events = EventsOfEntry((*entries)[i][1]);
      EXPECT_TRUE(events.ok()) << events.status();
      if (events.ok()) out.insert(out.end(), events->begin(), events->end());
    }
    return out;
  }

  testing::RedisServer redis_;
  TrainingStore store_{redis_.pool()};
};

TEST_F(LedgerTransactionTest, WritesTheCreditsTotalsAndOneStreamEntryWhenNothingChanged) {
  const size_t published_before = Published().size();
  auto session = ReadWatched();
  ASSERT_NE(session, nullptr);
  std::vector<common::v1::Event> events;
  // A's totals assume an empty ledger; B has none to store (recount).
  std::vector<LedgerAppend> appends = {Credit("A", 0, &events), Credit("B", -1, &events)};
  LedgerTransaction transaction(*session, kCounty);
  auto outcomes = transaction.Write(appends, events);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_TRUE(outcomes->has_value());
  EXPECT_THAT(**outcomes,
              ::testing::ElementsAre(AppendOutcome::kApplied, AppendOutcome::kAppliedStale));

  ASSERT_EQ(Ledger("A").size(), 1u);
  v1::LedgerEntry stored;
  ASSERT_TRUE(stored.ParseFromString(Ledger("A")[0]));
  EXPECT_EQ(stored.entry_id(), "E-A");
  EXPECT_EQ(Ledger("B").size(), 1u);
  const redis::Args fields = {absl::StrCat("c:", kCourse), "tally", "row", "ps"};
  EXPECT_THAT(Fields("A", fields), ::testing::ElementsAre("E-A", "tally-of-A", "row-of-A", "ps1"));
  EXPECT_THAT(Fields("B", fields), ::testing::ElementsAre("E-B", "(nil)", "(nil)", "(nil)"));

  std::vector<common::v1::Event> published = Published();
  ASSERT_EQ(published.size(), published_before + 2);
  EXPECT_EQ(published[published_before].teacher_id(), "A");
  EXPECT_TRUE(published[published_before].has_teacher_summary());  // totals stored
  EXPECT_EQ(published[published_before + 1].teacher_id(), "B");
  EXPECT_FALSE(published[published_before + 1].has_teacher_summary());
}

TEST_F(LedgerTransactionTest, TotalsCountedFromAnotherLedgerLengthAreReportedStale) {
  auto session = ReadWatched();
  ASSERT_NE(session, nullptr);
  std::vector<common::v1::Event> events;
  // Totals that assume one entry more than the ledger has.
  std::vector<LedgerAppend> appends = {Credit("A", 1, &events)};
  LedgerTransaction transaction(*session, kCounty);
  auto outcomes = transaction.Write(appends, events);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_TRUE(outcomes->has_value());
  EXPECT_THAT(**outcomes, ::testing::ElementsAre(AppendOutcome::kAppliedStale));
}

// A batch writes a transaction per chunk: after the first, the next applies only if nothing was
// written to the county since, and after one refusal none does.
TEST_F(LedgerTransactionTest, ALaterChunkIsRefusedWhenTheCountyWasWrittenAfterTheLastOne) {
  auto session = ReadWatched();
  ASSERT_NE(session, nullptr);
  LedgerTransaction transaction(*session, kCounty);
  std::vector<common::v1::Event> first_events;
  std::vector<LedgerAppend> first = {Credit("A", -1, &first_events)};
  auto written = transaction.Write(first, first_events);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_TRUE(written->has_value());
  // Between chunks, an unrelated write to teacher A's facts.
  TeacherFactsRecord facts;
  facts.teacher_id = "A";
  facts.county_id = kCounty;
  facts.school_id = "S9";
  facts.hire_date = "2010-09-01";
  ASSERT_TRUE(store_.PutFacts(facts, false, WriteContext{"test", "", nullptr}).ok());
  std::vector<common::v1::Event> second_events;
  std::vector<LedgerAppend> second = {Credit("B", -1, &second_events)};
  written = transaction.Write(second, second_events);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_FALSE(written->has_value());
  EXPECT_EQ(Ledger("B").size(), 0u);
  written = transaction.Write(second, second_events);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_FALSE(written->has_value());
  EXPECT_EQ(Ledger("B").size(), 0u);
  EXPECT_EQ(Ledger("A").size(), 1u);
}

TEST_F(LedgerTransactionTest, LaterChunksApplyWhileNothingElseWritesTheCounty) {
  auto session = ReadWatched();
  ASSERT_NE(session, nullptr);
  LedgerTransaction transaction(*session, kCounty);
  for (const char* teacher : {"A", "B"}) {
    std::vector<common::v1::Event> events;
    std::vector<LedgerAppend> appends = {Credit(teacher, 0, &events)};
    auto written = transaction.Write(appends, events);
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_TRUE(written->has_value()) << teacher;
    EXPECT_THAT(**written, ::testing::ElementsAre(AppendOutcome::kApplied));
    EXPECT_EQ(Ledger(teacher).size(), 1u);
  }
}

// Each of the store's writes to a teacher of the county between the read and the EXEC (here to
// teacher B only) makes Redis refuse the transaction: nothing of it is written.
TEST_F(LedgerTransactionTest, AnyWriteToATeacherOfTheCountyInBetweenRefusesItWhole) {
  const std::vector<std::pair<std::string, std::function<absl::Status()>>> writes = {
      {"PutFacts",
       [&] {
         TeacherFactsRecord facts;
         facts.teacher_id = "B";
         facts.county_id = kCounty;
         facts.school_id = "S2";
         facts.hire_date = "2010-09-01";
         return store_.PutFacts(facts, false, WriteContext{"test", "", nullptr});
       }},
      {"AppendLedger",
       [&] {
         std::vector<common::v1::Event> events;
         LedgerAppend other = Credit("B", -1, &events);
         other.mark = "c:another-course";
         other.entry.set_entry_id("E-B-other");
         return store_
             .AppendLedger(kCounty, {other}, WriteContext{"test", "", nullptr}, std::move(events))
             .status();
       }},
      {"PutTallies",
       [&] {
         TallyWrite w;
         w.teacher_id = "B";
         w.ledger_length = static_cast<int64_t>(Ledger("B").size());
         w.tally = "recounted";
         w.row = "row";
         w.policy_stamp = "ps1";
         return store_.PutTallies(kCounty, {w}, {}).status();
       }},
      {"AddRecord",
       [&] {
         v1::TrainingRecord r;
         r.set_record_id(absl::StrCat("R", kCounty, "-00ab"));
         r.set_teacher_id("B");
         r.set_county_id(kCounty);
         r.set_hours(2);
         return store_.AddRecord(r, WriteContext{"test", "", nullptr}, {}).status();
       }},
  };
  for (const auto& [name, write] : writes) {
    SCOPED_TRACE(name);
    const size_t ledger_before = Ledger("A").size();
    const size_t published_before = Published().size();
    auto session = ReadWatched();
    ASSERT_NE(session, nullptr);
    ASSERT_TRUE(write().ok());
    const size_t published_by_write = Published().size();
    std::vector<common::v1::Event> events;
    LedgerTransaction transaction(*session, kCounty);
    std::vector<LedgerAppend> appends = {Credit("A", -1, &events)};
    auto outcomes = transaction.Write(appends, events);
    ASSERT_TRUE(outcomes.ok()) << outcomes.status();
    EXPECT_FALSE(outcomes->has_value());
    EXPECT_EQ(Ledger("A").size(), ledger_before);
    EXPECT_THAT(Fields("A", {absl::StrCat("c:", kCourse)}), ::testing::ElementsAre("(nil)"));
    EXPECT_EQ(Published().size(), published_by_write);
    EXPECT_GE(published_by_write, published_before);
  }
}

}  // namespace
}  // namespace shidang::training
