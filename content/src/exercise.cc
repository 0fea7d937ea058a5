#include "outpost/content/exercise.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "outpost/base/text.h"

namespace outpost {

namespace {

// Folds an answer for comparison: search folding, apostrophes unified, spaces collapsed.
std::string NormalizeAnswer(std::string_view s) {
  std::string folded = FoldForSearch(s);
  std::string out;
  size_t pos = 0;
  bool space = false;
  while (pos < folded.size()) {
    char32_t cp = DecodeUtf8(folded, &pos);
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == 0x00B4 || cp == '`') cp = '\'';
    bool is_space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0;
    if (is_space) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    AppendUtf8(cp, &out);
  }
  // A final full stop is not part of the answer ("Rain." is "rain").
  while (!out.empty() && (out.back() == '.' || out.back() == '!')) out.pop_back();
  return out;
}

// The readers below return what is wrong without the file name (and the type readers without
// the question's number); ParseExercise and ReadQuestion add those as context, so every
// message reads "quiz.exercise.json: question 2: ...".

Status ReadTitleAndLanguage(const nlohmann::json& j, Exercise* ex) {
  for (const char* key : {"title", "language"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_string()) {
      return InvalidArgument(std::string("\"") + key + "\" must be a string");
    }
    (std::string_view(key) == "title" ? ex->title : ex->language) = j[key].get<std::string>();
  }
  return Status::Ok();
}

Status ReadChoice(const nlohmann::json& item, Question* q) {
  q->type = Question::Type::kChoice;
  if (!item.contains("choices") || !item["choices"].is_array() || item["choices"].size() < 2) {
    return InvalidArgument("\"choices\" must list at least two answers");
  }
  for (const auto& c : item["choices"]) {
    if (!c.is_string()) return InvalidArgument("every choice must be a string");
    q->choices.push_back(c);
  }
  if (!item.contains("answer") || !item["answer"].is_number_unsigned() ||
      item["answer"].get<size_t>() >= q->choices.size()) {
    return InvalidArgument("\"answer\" must be the index (from 0) of the right choice");
  }
  q->answer_index = item["answer"];
  return Status::Ok();
}

Status ReadNumeric(const nlohmann::json& item, Question* q) {
  q->type = Question::Type::kNumeric;
  if (!item.contains("answer") || !item["answer"].is_number()) {
    return InvalidArgument("\"answer\" must be a number");
  }
  q->answer_number = item["answer"];
  if (item.contains("tolerance")) {
    if (!item["tolerance"].is_number() || item["tolerance"].get<double>() < 0) {
      return InvalidArgument("\"tolerance\" must be a number >= 0");
    }
    q->tolerance = item["tolerance"];
  }
  return Status::Ok();
}

Status ReadText(const nlohmann::json& item, Question* q) {
  q->type = Question::Type::kText;
  if (!item.contains("answers") || !item["answers"].is_array() || item["answers"].empty()) {
    return InvalidArgument("\"answers\" must list the accepted answers");
  }
  for (const auto& a : item["answers"]) {
    if (!a.is_string()) return InvalidArgument("every accepted answer must be a string");
    q->answers.push_back(a);
  }
  return Status::Ok();
}

// The answer fields of `type`, then the feedback every type may have.
Status ReadAnswerAndFeedback(const nlohmann::json& item, const std::string& type, Question* q) {
  Status st;
  if (type == "choice") {
    st = ReadChoice(item, q);
  } else if (type == "numeric") {
    st = ReadNumeric(item, q);
  } else if (type == "text") {
    st = ReadText(item, q);
  } else {
    st = InvalidArgument("unknown type \"" + type + "\" (choice, numeric or text)");
  }
  if (!st.ok()) return st;
  if (item.contains("feedback")) {
    if (!item["feedback"].is_string()) return InvalidArgument("\"feedback\" must be a string");
    q->feedback = item["feedback"];
  }
  return Status::Ok();
}

// `where` is "question 3"; these first checks read "question 3 must be ..." (no colon).
Result<Question> ReadQuestion(const nlohmann::json& item, const std::string& where) {
  if (!item.is_object()) return InvalidArgument(where + " must be an object");
  if (!item.contains("prompt") || !item["prompt"].is_string()) {
    return InvalidArgument(where + " needs a \"prompt\"");
  }
  if (!item.contains("type") || !item["type"].is_string()) {
    return InvalidArgument(where + " needs a \"type\"");
  }
  Question q;
  q.prompt = item["prompt"];
  Status st = ReadAnswerAndFeedback(item, item["type"].get<std::string>(), &q);
  if (!st.ok()) return st.WithContext(where);
  return q;
}

Result<Exercise> ReadExercise(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("an exercise must be a JSON object");
  Exercise ex;
  OUTPOST_RETURN_IF_ERROR(ReadTitleAndLanguage(j, &ex));
  if (!j.contains("questions") || !j["questions"].is_array() || j["questions"].empty()) {
    return InvalidArgument("\"questions\" must be a non-empty list");
  }
  int index = 0;
  for (const auto& item : j["questions"]) {
    auto q = ReadQuestion(item, "question " + std::to_string(++index));
    if (!q) return q.error();
    ex.questions.push_back(std::move(*q));
  }
  return ex;
}

}  // namespace

std::string Exercise::SearchText() const {
  std::string out;
  auto append = [&](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += ' ';
    out += s;
  };
  for (const auto& q : questions) {
    append(q.prompt);
    for (const auto& c : q.choices) append(c);
    append(q.feedback);
  }
  return out;
}

Result<Exercise> ParseExercise(std::string_view text, const std::string& file) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(file + ": not valid JSON: " + e.what());
  }
  auto ex = ReadExercise(j);
  if (!ex) return ex.error().WithContext(file);
  return ex;
}

bool ParseLearnerNumber(std::string_view s, double* out) {
  std::string ascii;
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = DecodeUtf8(s, &pos);
    if (cp >= 0x0660 && cp <= 0x0669) cp = '0' + (cp - 0x0660);  // Arabic-Indic digits
    if (cp >= 0x06F0 && cp <= 0x06F9) cp = '0' + (cp - 0x06F0);  // Eastern Arabic-Indic
    if (cp == ',' || cp == 0x066B) cp = '.';                      // decimal comma, Arabic separator
    if (cp == ' ' || cp == 0xA0 || cp == 0x202F) continue;       // spaces, also as thousands marks
    if (cp == 0x2212) cp = '-';                                   // minus sign
    if (cp >= 0x80) return false;
    ascii += static_cast<char>(cp);
  }
  if (ascii.empty() || ascii.size() > 40) return false;
  char* end = nullptr;
  double v = std::strtod(ascii.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool CheckAnswer(const Question& q, std::string_view given) {
  switch (q.type) {
    case Question::Type::kChoice: {
      double index;
      return ParseLearnerNumber(given, &index) && index == static_cast<double>(q.answer_index);
    }
    case Question::Type::kNumeric: {
      double v;
      // A small epsilon keeps 0.1 + 0.2 style rounding from failing an exact answer.
      return ParseLearnerNumber(given, &v) &&
             std::fabs(v - q.answer_number) <= q.tolerance + 1e-9 * std::fabs(q.answer_number);
    }
    case Question::Type::kText: {
      std::string g = NormalizeAnswer(given);
      if (g.empty()) return false;
      for (const auto& a : q.answers) {
        if (NormalizeAnswer(a) == g) return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace outpost
