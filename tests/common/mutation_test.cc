#include "services/common/mutation.h"

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "tests/kit/redis_server.h"

namespace shidang {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Adds A[1] hours to the teacher hash K[1] and publishes every prepared event. Validates first
// (amount, frozen record), writes after, as the Mutation contract asks.
constexpr char kAddHoursBody[] = R"lua(
  local add = tonumber(A[1])
  if not add then return {err = 3, msg = 'must be a whole number of hours', field = 'hours'} end
  if redis.call('HGET', K[1], 'frozen') == '1' then
    return {err = 9, msg = 'the teacher record is frozen'}
  end
  local total = redis.call('HINCRBY', K[1], 'hours', add)
  emit_all()
  return {ok = tostring(total)}
)lua";

constexpr char kService[] = "training";
constexpr char kActor[] = "teacher:t1";
constexpr char kMethod[] = "AddHours";

class MutationTest : public ::testing::Test {
 protected:
  MutationTest() : tag_(keys::HashTag("c", "110105")), add_hours_(kAddHoursBody) {}

  std::string TeacherKey() const { return absl::StrCat(kService, ":", tag_, ":teacher:t1"); }
  std::string Stream() const { return keys::StreamKey(kService, tag_); }

  // A request to add `hours`, standing in for a service's proto request: the Event message has a
  // request_id field and a free text field (summary) for the content.
  MutationRequest AddHours(const std::string& request_id, const std::string& hours) {
    common::v1::Event request;
    request.set_request_id(request_id);
    request.set_summary(hours);
    MutationRequest m;
    absl::Status attached = AttachIdempotency(m, kService, tag_, kActor, kMethod, request);
    EXPECT_TRUE(attached.ok()) << attached;
    m.stream_key = Stream();
    common::v1::Event event = NewEvent(kService, "training.hours_added", absl::Now());
    event.set_request_id(request_id);
    event.set_teacher_id("t1");
    m.events.push_back(event);
    m.keys = {TeacherKey()};
    m.args = {hours};
    return m;
  }

  // A request publishing three prepared events ("x.one", "x.two", "x.three") as one stream entry,
  // each envelope over 127 bytes so its length takes two varint bytes.
  MutationRequest ThreeEventsInOneEntry() {
    MutationRequest m;
    m.stream_key = Stream();
    m.one_stream_entry = true;
    for (const char* type : {"x.one", "x.two", "x.three"}) {
      m.events.push_back(NewEvent(kService, type, absl::Now()));
      m.events.back().set_summary(std::string(200, 'x'));
    }
    m.keys = {TeacherKey()};
    return m;
  }

  int64_t Hours() {
    auto reply = pool().Command({"HGET", TeacherKey(), "hours"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer() : -1;
  }
  int64_t StreamLength() {
    auto reply = pool().Command({"XLEN", Stream()});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer() : -1;
  }
  int64_t Exists(const std::string& key) {
    auto reply = pool().Command({"EXISTS", key});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer() : -1;
  }

  redis::Pool& pool() { return server_.pool(); }

  testing::RedisServer server_;
  const std::string tag_;
  const Mutation add_hours_;
};

TEST_F(MutationTest, WritesStateEventAndIdempotencyRecordTogether) {
  MutationRequest m = AddHours("r1", "24");
  auto result = add_hours_.Run(pool(), m);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->payload, "24");
  EXPECT_FALSE(result->replayed);
  ASSERT_THAT(result->stream_entry_ids, SizeIs(1));
  EXPECT_EQ(Hours(), 24);

  auto entries = pool().Command({"XRANGE", Stream(), "-", "+"});
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0][0].str(), result->stream_entry_ids[0]);
  const redis::Reply fields = (*entries)[0][1];
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].str(), "e");
  EXPECT_EQ(fields[2].str(), "t");
  EXPECT_EQ(fields[3].str(), "training.hours_added");
  common::v1::Event published;
  ASSERT_TRUE(
      published.ParseFromArray(fields[1].str().data(), static_cast<int>(fields[1].str().size())));
  EXPECT_EQ(published.id(), m.events[0].id());
  EXPECT_EQ(published.teacher_id(), "t1");

  EXPECT_EQ(m.idempotency_key, absl::StrCat("training:{c:110105}:idem:AddHours:teacher:t1:r1"));
  auto record = pool().Command({"GET", m.idempotency_key});
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->str(), m.fingerprint + "\n24");
}

TEST_F(MutationTest, ReplayReturnsTheFirstAnswerAndChangesNothing) {
  auto first = add_hours_.Run(pool(), AddHours("r1", "24"));
  ASSERT_TRUE(first.ok()) << first.status();
  // Another change in between, so a replay that ran the body again would answer 36, not 24.
  auto other = add_hours_.Run(pool(), AddHours("r2", "12"));
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_EQ(Hours(), 36);
  ASSERT_EQ(StreamLength(), 2);

  auto replay = add_hours_.Run(pool(), AddHours("r1", "24"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->payload, "24");
  EXPECT_TRUE(replay->replayed);
  EXPECT_TRUE(replay->stream_entry_ids.empty());
  EXPECT_EQ(Hours(), 36);
  EXPECT_EQ(StreamLength(), 2);
}

TEST_F(MutationTest, SameRequestIdForADifferentRequestIsInvalidArgument) {
  ASSERT_TRUE(add_hours_.Run(pool(), AddHours("r1", "24")).ok());
  auto reused = add_hours_.Run(pool(), AddHours("r1", "25"));
  ASSERT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument) << reused.status();
  EXPECT_THAT(reused.status().message(), HasSubstr("request_id 'r1' was already used"));
  auto details = reused.status().GetPayload("type.googleapis.com/shidang.common.v1.BadRequest");
  ASSERT_TRUE(details.has_value());
  common::v1::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(std::string(*details)));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "request_id");
  EXPECT_EQ(bad_request.field_violations(0).rule(), "request_id_reused");
  EXPECT_EQ(Hours(), 24);
  EXPECT_EQ(StreamLength(), 1);
}

// What a use case reads before its state checks: the first answer, a refusal of the same id for
// a different request, nothing for a new id or none.
TEST_F(MutationTest, StoredAnswerIsTheFirstAnswerOrARefusalOfAReusedId) {
  auto none = StoredAnswer(pool(), AddHours("r1", "24"));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(add_hours_.Run(pool(), AddHours("r1", "24")).ok());
  ASSERT_TRUE(add_hours_.Run(pool(), AddHours("r2", "12")).ok());

  auto first = StoredAnswer(pool(), AddHours("r1", "24"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(**first, "24");
  auto reused = StoredAnswer(pool(), AddHours("r1", "25"));
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument) << reused.status();
  EXPECT_THAT(reused.status().message(), HasSubstr("request_id 'r1' was already used"));
  auto fresh = StoredAnswer(pool(), AddHours("r3", "24"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->has_value());
  auto without_id = StoredAnswer(pool(), AddHours("", "24"));
  ASSERT_TRUE(without_id.ok()) << without_id.status();
  EXPECT_FALSE(without_id->has_value());
}

TEST_F(MutationTest, BodyErrorKeepsItsCodeAndWritesNothing) {
  ASSERT_TRUE(pool().Command({"HSET", TeacherKey(), "frozen", "1"}).ok());
  MutationRequest m = AddHours("r1", "24");
  auto refused = add_hours_.Run(pool(), m);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("frozen"));
  EXPECT_EQ(StreamLength(), 0);
  EXPECT_EQ(Exists(m.idempotency_key), 0);

  auto bad = add_hours_.Run(pool(), AddHours("r2", "lots"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  EXPECT_THAT(bad.status().message(), HasSubstr("hours"));
  EXPECT_EQ(StreamLength(), 0);

  // Nothing was stored, so the same request_id runs again once the record is unfrozen.
  ASSERT_TRUE(pool().Command({"HDEL", TeacherKey(), "frozen"}).ok());
  auto retried = add_hours_.Run(pool(), m);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_FALSE(retried->replayed);
  EXPECT_EQ(retried->payload, "24");
  EXPECT_EQ(StreamLength(), 1);
}

// A body's refusal of a field names the rule it broke in the violation; a body that names none
// is named by its code, so no violation leaves with an empty rule.
TEST_F(MutationTest, BodyErrorOfAFieldNamesItsRule) {
  const Mutation refuse(R"lua(
    if A[1] == 'named' then
      return {err = Code.FAILED_PRECONDITION, msg = 'the course is full', field = 'course_id',
              rule = 'course_full'}
    end
    return {err = Code.ALREADY_EXISTS, msg = 'taken', field = 'course_id'}
  )lua");
  for (const auto& [arg, rule] : std::vector<std::pair<std::string, std::string>>{
           {"named", "course_full"}, {"unnamed", "already_exists"}}) {
    SCOPED_TRACE(arg);
    MutationRequest m;
    m.stream_key = Stream();
    m.args = {arg};
    auto refused = refuse.Run(pool(), m);
    ASSERT_FALSE(refused.ok());
    auto details = refused.status().GetPayload("type.googleapis.com/shidang.common.v1.BadRequest");
    ASSERT_TRUE(details.has_value());
    common::v1::BadRequest bad_request;
    ASSERT_TRUE(bad_request.ParseFromString(std::string(*details)));
    ASSERT_EQ(bad_request.field_violations_size(), 1);
    EXPECT_EQ(bad_request.field_violations(0).field(), "course_id");
    EXPECT_EQ(bad_request.field_violations(0).rule(), rule);
  }
  EXPECT_EQ(StreamLength(), 0);
}

TEST_F(MutationTest, RequestWithoutRequestIdRunsEveryTime) {
  MutationRequest m = AddHours("", "24");
  EXPECT_TRUE(m.idempotency_key.empty());
  EXPECT_TRUE(m.fingerprint.empty());
  auto first = add_hours_.Run(pool(), m);
  auto second = add_hours_.Run(pool(), m);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->payload, "24");
  EXPECT_EQ(second->payload, "48");
  EXPECT_FALSE(second->replayed);
  EXPECT_EQ(StreamLength(), 2);
  auto records = pool().Command({"KEYS", "*:idem:*"});
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 0u);
}

TEST_F(MutationTest, IdempotencyRecordHasATtlAndExpires) {
  MutationRequest week = AddHours("r1", "1");
  ASSERT_TRUE(add_hours_.Run(pool(), week).ok());
  auto ttl = pool().Command({"TTL", week.idempotency_key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 7 * 24 * 3600 - 60);
  EXPECT_LE(ttl->integer(), 7 * 24 * 3600);

  MutationRequest brief = AddHours("r2", "10");
  brief.idempotency_ttl = absl::Seconds(1);
  ASSERT_TRUE(add_hours_.Run(pool(), brief).ok());
  ASSERT_EQ(Hours(), 11);
  // Redis expires the record; after that the same request_id is a new request.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Exists(brief.idempotency_key) == 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Exists(brief.idempotency_key), 0);
  auto again = add_hours_.Run(pool(), brief);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->replayed);
  EXPECT_EQ(again->payload, "21");
}

TEST_F(MutationTest, RacingDuplicatesChangeStateExactlyOnce) {
  constexpr int kThreads = 8;
  const MutationRequest m = AddHours("race-1", "24");
  std::atomic<int> ready{0};
  std::vector<absl::StatusOr<MutationResult>> results(kThreads, absl::UnknownError("did not run"));
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();  // start together
      results[i] = add_hours_.Run(pool(), m);
    });
  }
  for (std::thread& t : threads) t.join();

  int first_runs = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->payload, "24");
    if (!result->replayed) ++first_runs;
  }
  EXPECT_EQ(first_runs, 1);
  EXPECT_EQ(Hours(), 24);
  EXPECT_EQ(StreamLength(), 1);
}

TEST_F(MutationTest, BodyChoosesWhichPreparedEventsGoOut) {
  // Emits the prepared events named in A, in that order; repeats are published once.
  const Mutation choose(R"lua(
    for _, i in ipairs(A) do emit(tonumber(i)) end
    return {ok = 'chosen'}
  )lua");
  MutationRequest m;
  m.stream_key = Stream();
  for (const char* type : {"x.first", "x.second", "x.third"}) {
    m.events.push_back(NewEvent(kService, type, absl::Now()));
  }
  m.keys = {TeacherKey()};
  m.args = {"3", "1", "3"};
  auto result = choose.Run(pool(), m);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->stream_entry_ids, SizeIs(2));
  auto entries = pool().Command({"XRANGE", Stream(), "-", "+"});
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> types;
  for (size_t i = 0; i < entries->size(); ++i) types.emplace_back((*entries)[i][1][3].str());
  EXPECT_THAT(types, ElementsAre("x.third", "x.first"));

  m.args = {};
  auto none = choose.Run(pool(), m);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->stream_entry_ids.empty());
  EXPECT_EQ(StreamLength(), 2);
}

TEST_F(MutationTest, AnExtraChosenByTheBodyMergesIntoTheEnvelope) {
  // A[1] says whether the change calls for the summary; A[2] is the encoded field to add.
  const Mutation maybe_summary(R"lua(
    if A[1] == '1' then emit(1, A[2]) else emit(1) end
    return {ok = ''}
  )lua");
  profile::v1::ServiceSummary summary;
  summary.set_kind("training_cycle");
  (*summary.mutable_values())["counted_hours"] = "24";
  common::v1::Event field_only;
  field_only.mutable_teacher_summary()->PackFrom(summary);
  MutationRequest m;
  m.stream_key = Stream();
  m.events.push_back(NewEvent(kService, "x.credited", absl::Now()));
  m.events[0].set_summary("完成培训");
  m.keys = {TeacherKey()};
  m.args = {"1", field_only.SerializeAsString()};
  ASSERT_TRUE(maybe_summary.Run(pool(), m).ok());
  m.args[0] = "0";
  ASSERT_TRUE(maybe_summary.Run(pool(), m).ok());

  auto entries = pool().Command({"XRANGE", Stream(), "-", "+"});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  std::vector<common::v1::Event> published(2);
  for (size_t i = 0; i < 2; ++i) {
    const absl::string_view bytes = (*entries)[i][1][1].str();
    ASSERT_TRUE(published[i].ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    EXPECT_EQ(published[i].id(), m.events[0].id());
    EXPECT_EQ(published[i].summary(), "完成培训");
  }
  profile::v1::ServiceSummary got;
  ASSERT_TRUE(published[0].teacher_summary().UnpackTo(&got));
  EXPECT_EQ(got.values().at("counted_hours"), "24");
  EXPECT_FALSE(published[1].has_teacher_summary());
}

TEST_F(MutationTest, ABatchEntryBuiltOutsideAScriptIsTheEntryTheScriptAdds) {
  // Events 1 and 3 go out, 1 with an extra; one stream entry.
  const Mutation some(R"lua(
    emit(1, A[1])
    emit(3)
    return {ok = ''}
  )lua");
  common::v1::Event field_only;
  field_only.set_summary("+extra");
  MutationRequest m = ThreeEventsInOneEntry();
  m.args = {field_only.SerializeAsString()};
  ASSERT_TRUE(some.Run(pool(), m).ok());

  const std::string first = m.events[0].SerializeAsString();
  const std::string third = m.events[2].SerializeAsString();
  redis::Args xadd = BatchStreamEntry(Stream(), 0, {{first, m.args[0]}, {third, ""}});
  ASSERT_GE(xadd.size(), 3u);
  EXPECT_EQ(xadd[0], "XADD");
  EXPECT_EQ(xadd[1], Stream());
  EXPECT_EQ(xadd[2], "*");
  ASSERT_TRUE(pool().Command(xadd).ok());

  auto entries = pool().Command({"XRANGE", Stream(), "-", "+"});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  auto fields = [&](size_t i) {
    std::vector<std::string> out;
    for (size_t f = 0; f < (*entries)[i][1].size(); ++f) {
      out.emplace_back((*entries)[i][1][f].str());
    }
    return out;
  };
  EXPECT_EQ(fields(1), fields(0));
  auto events = EventsOfEntry((*entries)[1][1]);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].type(), "x.one");
  EXPECT_EQ((*events)[0].summary(), "+extra");  // merged: the extra's field replaces the first
  EXPECT_EQ((*events)[1].type(), "x.three");

  redis::Args capped = BatchStreamEntry(Stream(), 100, {{third, ""}});
  EXPECT_THAT(std::vector<std::string>(capped.begin() + 2, capped.begin() + 6),
              ElementsAre("MAXLEN", "~", "100", "*"));
}

// all_events_as_one_batch: the kit serializes the batch, the script adds it whole; the entry is
// the one a script joining the same events in Lua adds, byte for byte.
TEST_F(MutationTest, EventsSentAsOneBatchMakeTheEntryTheScriptWouldJoin) {
  const Mutation all(R"lua(
    if A[1] == 'refuse' then return {err = Code.FAILED_PRECONDITION, msg = 'no'} end
    emit_all()
    return {ok = A[1]}
  )lua");
  MutationRequest joined = ThreeEventsInOneEntry();
  joined.args = {"joined"};
  MutationRequest batched = joined;
  batched.all_events_as_one_batch = true;
  batched.args = {"batched"};

  auto by_lua = all.Run(pool(), joined);
  ASSERT_TRUE(by_lua.ok()) << by_lua.status();
  auto by_kit = all.Run(pool(), batched);
  ASSERT_TRUE(by_kit.ok()) << by_kit.status();
  EXPECT_EQ(by_kit->payload, "batched");  // the body's args start after the batch
  ASSERT_THAT(by_kit->stream_entry_ids, SizeIs(1));

  auto entries = pool().Command({"XRANGE", Stream(), "-", "+"});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1][0].str(), by_kit->stream_entry_ids[0]);
  ASSERT_EQ((*entries)[1][1].size(), (*entries)[0][1].size());
  for (size_t f = 0; f < (*entries)[0][1].size(); ++f) {
    EXPECT_EQ((*entries)[1][1][f].str(), (*entries)[0][1][f].str()) << "field " << f;
  }
  auto events = EventsOfEntry((*entries)[1][1]);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[2].type(), "x.three");

  // A refusal publishes nothing; a body choosing events one by one is a bug in this mode.
  batched.args = {"refuse"};
  EXPECT_EQ(all.Run(pool(), batched).status().code(), absl::StatusCode::kFailedPrecondition);
  const Mutation one_by_one("emit(1) return {ok = ''}");
  EXPECT_EQ(one_by_one.Run(pool(), batched).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(StreamLength(), 2);
}

TEST_F(MutationTest, BugsInTheBodyAreInternal) {
  MutationRequest m = AddHours("", "1");
  const Mutation bad_emit("emit(2) return {ok = 'x'}");
  EXPECT_EQ(bad_emit.Run(pool(), m).status().code(), absl::StatusCode::kInternal);
  const Mutation no_table("return 42");
  EXPECT_EQ(no_table.Run(pool(), m).status().code(), absl::StatusCode::kInternal);
  const Mutation bad_code("return {err = 99, msg = 'no such code'}");
  EXPECT_EQ(bad_code.Run(pool(), m).status().code(), absl::StatusCode::kInternal);
  const Mutation syntax("return {ok = ");
  EXPECT_EQ(syntax.Run(pool(), m).status().code(), absl::StatusCode::kInternal);
  ASSERT_TRUE(pool().Command({"SET", TeacherKey(), "not a hash"}).ok());
  auto wrong_type = add_hours_.Run(pool(), m);
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kInternal) << wrong_type.status();
  EXPECT_EQ(StreamLength(), 0);
}

TEST_F(MutationTest, KeysUnderAnotherHashTagAreRefusedBeforeSending) {
  MutationRequest m = AddHours("r1", "24");
  const std::string elsewhere = absl::StrCat(kService, ":", keys::HashTag("c", "110106"), ":x");
  m.keys.push_back(elsewhere);
  auto refused = add_hours_.Run(pool(), m);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(refused.status().message(), HasSubstr(elsewhere));
  EXPECT_EQ(Exists(TeacherKey()), 0);
}

TEST_F(MutationTest, RedisDownIsUnavailable) {
  server_.Kill();
  auto result = add_hours_.Run(pool(), AddHours("r1", "24"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

TEST_F(MutationTest, StreamCapBoundsTheStream) {
  constexpr int kRuns = 350;
  MutationRequest m = AddHours("", "1");
  m.stream_cap = 100;
  for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(add_hours_.Run(pool(), m).ok());
  EXPECT_EQ(Hours(), kRuns);
  // MAXLEN ~ trims whole stream nodes (100 entries each), so the length lands between the cap
  // and cap + one node.
  EXPECT_GE(StreamLength(), 100);
  EXPECT_LT(StreamLength(), 250);
}

TEST(IdempotencyKeyTest, PutsTheHashTagFirstAndRefusesBadRequestIds) {
  auto key = IdempotencyKey("training", "{c:110105}", "county_hr:110105", "Credit", "abc-1");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, "training:{c:110105}:idem:Credit:county_hr:110105:abc-1");
  EXPECT_EQ(keys::HashedPart(*key), "c:110105");

  for (const std::string& bad :
       {std::string("a{b"), std::string("a}b"), std::string(129, 'x'), std::string()}) {
    auto refused = IdempotencyKey("training", "{c:110105}", "teacher:t1", "Credit", bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(refused.status().message(), HasSubstr("request_id")) << bad;
  }
  EXPECT_TRUE(
      IdempotencyKey("training", "{c:110105}", "teacher:t1", "Credit", std::string(128, 'x')).ok());
}

TEST(AttachIdempotencyTest, BadRequestIdIsInvalidArgumentNamingIt) {
  common::v1::Event request;
  request.set_request_id("x{y}");
  MutationRequest m;
  absl::Status status = AttachIdempotency(m, "training", "{c:1}", "teacher:t1", "M", request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("request_id"));
  EXPECT_TRUE(m.idempotency_key.empty());

  // A message without a request_id field has no idempotency.
  common::v1::FieldViolation no_field;
  no_field.set_field("f");
  EXPECT_TRUE(AttachIdempotency(m, "training", "{c:1}", "teacher:t1", "M", no_field).ok());
  EXPECT_TRUE(m.fingerprint.empty());
}

TEST(FingerprintTest, IgnoresRequestIdAndSeesEverythingElse) {
  common::v1::Event a;
  a.set_request_id("r1");
  a.set_summary("完成培训 24 学时");
  a.set_recorded_at_ms(1);
  common::v1::Event b = a;
  b.set_request_id("r2");
  EXPECT_EQ(Fingerprint(a), Fingerprint(b));
  EXPECT_EQ(Fingerprint(a).size(), 64u);
  // The caller's message is not changed by fingerprinting it.
  EXPECT_EQ(a.request_id(), "r1");

  common::v1::Event c = a;
  c.set_recorded_at_ms(2);
  EXPECT_NE(Fingerprint(a), Fingerprint(c));
  common::v1::Event d = a;
  d.set_summary("完成培训 25 学时");
  EXPECT_NE(Fingerprint(a), Fingerprint(d));
  // SHA-256 of the empty serialization.
  EXPECT_EQ(Fingerprint(common::v1::Event()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(NewEventTest, FillsUniqueIdSourceTypeAndTime) {
  std::set<std::string> ids;
  const absl::Time at = absl::FromUnixMillis(1725148800123);
  for (int i = 0; i < 1000; ++i) {
    common::v1::Event e = NewEvent("profile", "profile.teacher_created", at);
    EXPECT_EQ(e.id().size(), 32u);
    ids.insert(e.id());
    if (i == 0) {
      EXPECT_EQ(e.source(), "profile");
      EXPECT_EQ(e.type(), "profile.teacher_created");
      EXPECT_EQ(e.recorded_at_ms(), 1725148800123);
    }
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(KeysTest, SlotsFollowRedisClusterRules) {
  EXPECT_EQ(keys::HashTag("c", "110105"), "{c:110105}");
  EXPECT_EQ(keys::HashedPart("a:{c:1}:b:{x}"), "c:1");
  EXPECT_EQ(keys::HashedPart("a:{}:b"), "a:{}:b");
  EXPECT_EQ(keys::HashedPart("plain"), "plain");
  // Values from the Redis Cluster specification (CLUSTER KEYSLOT).
  EXPECT_EQ(keys::KeySlot("123456789"), 0x31C3 & 16383);
  EXPECT_EQ(keys::KeySlot("foo"), 12182);
  EXPECT_EQ(keys::KeySlot("{user1000}.following"), keys::KeySlot("{user1000}.followers"));
  EXPECT_EQ(keys::StreamKey("training", "{c:1}"), "training:{c:1}:events");
}

}  // namespace
}  // namespace shidang
