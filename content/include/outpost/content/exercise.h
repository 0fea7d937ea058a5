// Exercises: the *.exercise.json format (docs/channel-format.md), parsed and checked. The
// importer validates exercises with ParseExercise; the learner pages render them and check the
// answers a learner posts with CheckAnswer, so a page works with JavaScript off.
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "outpost/base/status.h"

namespace outpost {

struct Question {
  enum class Type { kChoice, kNumeric, kText };
  Type type = Type::kChoice;
  std::string prompt;
  std::vector<std::string> choices;  // kChoice
  size_t answer_index = 0;           // kChoice: the right choice, from 0
  double answer_number = 0;          // kNumeric
  double tolerance = 0;              // kNumeric: |given - answer| <= tolerance is right
  std::vector<std::string> answers;  // kText: accepted answers
  std::string feedback;              // shown after an answer (may be empty)
};

struct Exercise {
  std::string title, language;
  std::vector<Question> questions;
  // Prompts, choices and feedback, for the search index.
  std::string SearchText() const;
};

// Checks the structure; the error names `file` and the question ("quiz.exercise.json: question
// 2: ...").
Result<Exercise> ParseExercise(std::string_view json, const std::string& file);

// Whether `given` (what the learner typed or chose) answers `q`:
//   choice:  the index of the chosen choice, as decimal text;
//   numeric: a number with '.' or ',' as decimal separator, Western or Arabic-Indic digits,
//            surrounding spaces ignored; right if within the tolerance (inclusive);
//   text:    right if it equals an accepted answer after folding case, accents, Arabic marks
//            and alef forms (text.h), unifying apostrophes and collapsing spaces.
bool CheckAnswer(const Question& q, std::string_view given);

// Parses a number as CheckAnswer does; false if `s` is not one.
bool ParseLearnerNumber(std::string_view s, double* out);

}  // namespace outpost
