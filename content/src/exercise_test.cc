#include "outpost/content/exercise.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

const char* kQuiz = R"({
  "title": "Quiz", "language": "fr",
  "questions": [
    {"type": "choice", "prompt": "Qui chauffe l'eau ?", "choices": ["La lune", "Le soleil"],
     "answer": 1, "feedback": "Le soleil chauffe l'eau."},
    {"type": "numeric", "prompt": "Ébullition ?", "answer": 100},
    {"type": "numeric", "prompt": "Pi ?", "answer": 3.14, "tolerance": 0.01},
    {"type": "text", "prompt": "L'eau qui tombe ?", "answers": ["la pluie", "précipitation"]},
    {"type": "text", "prompt": "ما اسم تحول الماء إلى بخار؟", "answers": ["التَّبَخُّر"]}
  ]})";

TEST(ExerciseTest, ParsesAllQuestionTypes) {
  auto ex = ParseExercise(kQuiz, "quiz.exercise.json");
  ASSERT_TRUE(ex.has_value()) << ex.error().ToString();
  EXPECT_EQ(ex->title, "Quiz");
  ASSERT_EQ(ex->questions.size(), 5u);
  EXPECT_EQ(ex->questions[0].type, Question::Type::kChoice);
  EXPECT_EQ(ex->questions[1].type, Question::Type::kNumeric);
  EXPECT_EQ(ex->questions[3].type, Question::Type::kText);
  EXPECT_NE(ex->SearchText().find("Le soleil"), std::string::npos);
}

TEST(ExerciseTest, ChecksAnswersAsLearnersTypeThem) {
  auto ex = *ParseExercise(kQuiz, "q");
  auto& q = ex.questions;
  EXPECT_TRUE(CheckAnswer(q[0], "1"));
  EXPECT_FALSE(CheckAnswer(q[0], "0"));
  EXPECT_FALSE(CheckAnswer(q[0], ""));
  EXPECT_TRUE(CheckAnswer(q[1], "100"));
  EXPECT_TRUE(CheckAnswer(q[1], " 100 "));
  EXPECT_TRUE(CheckAnswer(q[1], "١٠٠"));  // Arabic-Indic digits
  EXPECT_FALSE(CheckAnswer(q[1], "99"));
  EXPECT_FALSE(CheckAnswer(q[1], "cent"));
  EXPECT_TRUE(CheckAnswer(q[2], "3,14"));  // decimal comma
  EXPECT_TRUE(CheckAnswer(q[2], "3.15"));  // tolerance is inclusive
  EXPECT_FALSE(CheckAnswer(q[2], "3.16"));
  EXPECT_TRUE(CheckAnswer(q[3], "La  Pluie."));
  EXPECT_TRUE(CheckAnswer(q[3], "precipitation"));
  EXPECT_FALSE(CheckAnswer(q[3], "neige"));
  EXPECT_TRUE(CheckAnswer(q[4], "التبخر"));  // without harakat
}

TEST(ExerciseTest, MalformedExercisesNameTheQuestion) {
  auto bad = ParseExercise(R"({"questions":[{"type":"text","prompt":"?","answers":[]}]})", "x.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("x.json: question 1: \"answers\""), std::string::npos);
  EXPECT_FALSE(ParseExercise("{", "x.json").has_value());
  EXPECT_FALSE(ParseExercise(R"({"questions":[]})", "x.json").has_value());
  EXPECT_FALSE(ParseExercise(R"({"questions":[{"type":"essay","prompt":"?"}]})", "x.json").has_value());
}

}  // namespace
}  // namespace outpost
