// Exercise files (*.exercise.json, content/ exercise.h) the importer reads, and a learner's
// answers to them. The first byte is the length of an answer that follows; the rest is the
// JSON. ParseExercise returns a value or an error naming the file; a choice question's answer
// is one of its choices; checking any answer against any question is a plain yes or no.
#include <string>

#include "fuzz_support.h"
#include "outpost/content/exercise.h"

using namespace outpost;
using namespace outpost::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  std::string_view given = in.TakeText(in.TakeByte());
  double number = 0;
  (void)ParseLearnerNumber(given, &number);
  auto exercise = ParseExercise(in.Rest(), "quiz.exercise.json");
  if (!exercise) {
    FUZZ_CHECK(exercise.error().message().find("quiz.exercise.json") != std::string::npos);
    return 0;
  }
  for (const auto& q : exercise->questions) {
    if (q.type == Question::Type::kChoice) FUZZ_CHECK(q.answer_index < q.choices.size());
    (void)CheckAnswer(q, given);
  }
  (void)exercise->SearchText();
  return 0;
}
