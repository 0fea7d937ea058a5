#include "value_labels.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

class ShownValueTest : public ::testing::Test {
 protected:
  ViewLanguage In(std::string code) {
    ViewLanguage lang;
    lang.strings = &strings_;
    lang.code = std::move(code);
    return lang;
  }
  nlohmann::json strings_ = {{"subject_science", "Sciences"},
                             {"subject_social-studies", "Sciences sociales"},
                             {"grade_3", "3e année"},
                             {"license_cc-by-sa", "CC BY-SA{v} (Partage)"},
                             {"license_cc0", "CC0"}};
};

TEST_F(ShownValueTest, AKnownValueIsTheCatalogsWordWhateverItsCaseAndSpacing) {
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "subject", "science"), "Sciences");
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "subject", "  SCIENCE "), "Sciences");
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "subject", "Social_Studies"), "Sciences sociales");
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "grade", "3"), "3e année");
  // A field's words are its own: "3" is not a subject.
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "subject", "3"), "3");
}

TEST_F(ShownValueTest, ALicenceKeepsItsVersion) {
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "license", "CC BY-SA 4.0"), "CC BY-SA 4.0 (Partage)");
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "license", "cc-by-sa"), "CC BY-SA (Partage)");
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "license", "CC0 1.0"), "CC0 1.0");  // no {v}: appended
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "license", "CC BY-SA 4.x"), "CC BY-SA 4.x");
}

TEST_F(ShownValueTest, AnUnknownOrEmptyValueIsShownAsWritten) {
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "subject", "Pottery & clay"), "Pottery & clay");
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "subject", " - "), " - ");
  EXPECT_EQ(ShownValue(In("fr"), nullptr, "grade", ""), "");
  ViewLanguage bare;
  EXPECT_EQ(ShownValue(bare, nullptr, "subject", "science"), "science");
}

TEST_F(ShownValueTest, TheChannelsLabelWinsInItsLanguageOrItsPrimaryLanguage) {
  std::vector<ValueLabel> labels = {{"grade", "CM2", "ar-eg", "الصف الخامس"},
                                    {"grade", "CM2", "en", "Year 6"},
                                    {"subject", "science", "fr", "Éveil scientifique"}};
  EXPECT_EQ(ShownValue(In("en"), &labels, "grade", "cm2"), "Year 6");
  EXPECT_EQ(ShownValue(In("ar"), &labels, "grade", "CM2"), "الصف الخامس");
  EXPECT_EQ(ShownValue(In("fr"), &labels, "grade", "CM2"), "CM2");
  EXPECT_EQ(ShownValue(In("fr"), &labels, "subject", "Science"), "Éveil scientifique");
  EXPECT_EQ(ShownValue(In("en"), &labels, "subject", "science"), "Sciences");  // the catalog's
}

}  // namespace
}  // namespace outpost
