#include "outpost/content/exercise.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

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

// Each message, word for word: the file first, then the question, then what is wrong; and when
// two things are wrong, the one checked first is reported.
TEST(ExerciseTest, EachMistakeHasItsOwnMessage) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([1])", "an exercise must be a JSON object"},
      {R"({"title":1})", "\"title\" must be a string"},
      {R"({"language":[],"questions":5})", "\"language\" must be a string"},
      {R"({"title":"T"})", "\"questions\" must be a non-empty list"},
      {R"({"questions":[{"type":"text","prompt":"?","answers":["a"]},7]})",
       "question 2 must be an object"},
      {R"({"questions":[{"type":"text"}]})", "question 1 needs a \"prompt\""},
      {R"({"questions":[{"prompt":"?","type":1}]})", "question 1 needs a \"type\""},
      {R"({"questions":[{"prompt":"?","type":"choice","choices":["a"]}]})",
       "question 1: \"choices\" must list at least two answers"},
      {R"({"questions":[{"prompt":"?","type":"choice","choices":["a",2]}]})",
       "question 1: every choice must be a string"},
      {R"({"questions":[{"prompt":"?","type":"choice","choices":["a","b"],"answer":2}]})",
       "question 1: \"answer\" must be the index (from 0) of the right choice"},
      {R"({"questions":[{"prompt":"?","type":"numeric","answer":"3"}]})",
       "question 1: \"answer\" must be a number"},
      {R"({"questions":[{"prompt":"?","type":"numeric","answer":3,"tolerance":-1}]})",
       "question 1: \"tolerance\" must be a number >= 0"},
      {R"({"questions":[{"prompt":"?","type":"text","answers":["a",null]}]})",
       "question 1: every accepted answer must be a string"},
      {R"({"questions":[{"prompt":"?","type":"essay","feedback":1}]})",
       "question 1: unknown type \"essay\" (choice, numeric or text)"},
      {R"({"questions":[{"prompt":"?","type":"text","answers":["a"],"feedback":1}]})",
       "question 1: \"feedback\" must be a string"},
  };
  for (const auto& [json, message] : cases) {
    auto ex = ParseExercise(json, "x.json");
    ASSERT_FALSE(ex.has_value()) << json;
    EXPECT_EQ(ex.error().code(), StatusCode::kInvalidArgument) << json;
    EXPECT_EQ(ex.error().message(), std::string("x.json: ") + message) << json;
  }
  auto not_json = ParseExercise("{", "x.json");
  ASSERT_FALSE(not_json.has_value());
  EXPECT_TRUE(not_json.error().message().starts_with("x.json: not valid JSON: "));
}

}  // namespace
}  // namespace outpost
