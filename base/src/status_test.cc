#include "outpost/base/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace outpost {
namespace {

TEST(StatusTest, ADefaultStatusIsOkAndSaysSo) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kOk);
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, AFailureKeepsItsCodeAndMessage) {
  Status st = Corrupt("blobs/ab/cd/x does not match its hash");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kCorrupt);
  EXPECT_EQ(st.message(), "blobs/ab/cd/x does not match its hash");
  EXPECT_NE(st.ToString().find("blobs/ab/cd/x does not match its hash"), std::string::npos);
}

TEST(StatusTest, ContextGoesBeforeTheMessageAndTheCodeStays) {
  Status st = NotFound("no such channel").WithContext("importing science");
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "importing science: no such channel");
}

TEST(StatusTest, ErrnoMapsAFullDiskToNoSpaceAndAMissingFileToNotFound) {
  EXPECT_EQ(ErrnoStatus("writing x", ENOSPC).code(), StatusCode::kNoSpace);
  EXPECT_EQ(ErrnoStatus("writing x", EDQUOT).code(), StatusCode::kNoSpace);
  EXPECT_EQ(ErrnoStatus("opening x", ENOENT).code(), StatusCode::kNotFound);
  Status other = ErrnoStatus("reading x", EIO);
  EXPECT_EQ(other.code(), StatusCode::kIoError);
  EXPECT_EQ(other.message().rfind("reading x: ", 0), 0u) << other.message();
}

TEST(StatusTest, EveryCodeHasAName) {
  for (StatusCode c : {StatusCode::kOk, StatusCode::kInvalidArgument, StatusCode::kNotFound,
                       StatusCode::kAlreadyExists, StatusCode::kIoError, StatusCode::kNoSpace,
                       StatusCode::kCorrupt, StatusCode::kBusy, StatusCode::kChanged,
                       StatusCode::kDenied, StatusCode::kInternal}) {
    ASSERT_NE(StatusCodeName(c), nullptr);
    EXPECT_NE(std::string(StatusCodeName(c)), "");
  }
}

TEST(ResultTest, HoldsAValueOrAnError) {
  Result<std::string> good = std::string("lesson");
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, "lesson");
  EXPECT_EQ(good->size(), 6u);

  Result<std::string> bad = InvalidArgument("empty title");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, AMoveOnlyValueCanBeTakenOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(r).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 7);
}

Status FailsThenNeverReachesTheEnd(bool* reached) {
  OUTPOST_RETURN_IF_ERROR(IoError("disk gone"));
  *reached = true;
  return Status::Ok();
}

TEST(ResultTest, ReturnIfErrorReturnsTheFailure) {
  bool reached = false;
  Status st = FailsThenNeverReachesTheEnd(&reached);
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_FALSE(reached);
}

}  // namespace
}  // namespace outpost
