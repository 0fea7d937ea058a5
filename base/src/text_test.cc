#include "outpost/base/text.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

TEST(TextTest, FrenchFoldsAccentsAndCase) {
  EXPECT_EQ(FoldForSearch("Élève"), "eleve");
  EXPECT_EQ(FoldForSearch("ÉVAPORATION, ça c'est l'œuvre"), "evaporation, ca c'est l'oeuvre");
  EXPECT_EQ(FoldForSearch("Straße"), "strasse");
  // Decomposed accents (e + U+0301) fold the same as precomposed ones.
  EXPECT_EQ(FoldForSearch("e\xCC\x81le\xCC\x80ve"), "eleve");
}

TEST(TextTest, ArabicDropsHarakatAndUnifiesAlef) {
  // الْمَاءُ (with harakat) and الماء (without) fold the same.
  EXPECT_EQ(FoldForSearch("الْمَاءُ"), FoldForSearch("الماء"));
  // أ إ آ ٱ all fold to ا.
  EXPECT_EQ(FoldForSearch("أمطار"), FoldForSearch("امطار"));
  EXPECT_EQ(FoldForSearch("إعادة"), FoldForSearch("اعاده"));
  EXPECT_EQ(FoldForSearch("آبار"), FoldForSearch("ابار"));
  // Tatweel is ignored.
  EXPECT_EQ(FoldForSearch("مـــاء"), FoldForSearch("ماء"));
}

TEST(TextTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("élève الماء"));
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBD"));  // a real U+FFFD
  EXPECT_FALSE(IsValidUtf8("bad\xFFname"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_EQ(EscapeInvalidUtf8("bad\xFFname"), "bad\\xFFname");
}

TEST(TextTest, ReadableTitles) {
  EXPECT_EQ(ReadableTitle("01-the_water-cycle.pdf"), "The water cycle");
  EXPECT_EQ(ReadableTitle("quiz.exercise.json"), "Quiz");
  EXPECT_EQ(ReadableTitle("2. Rain", /*strip_extension=*/false), "Rain");
  EXPECT_EQ(ReadableTitle("2. Rain.pdf"), "Rain");
  EXPECT_EQ(ReadableTitle("README"), "README");
  EXPECT_EQ(ReadableTitle("élève.html"), "élève");
  EXPECT_EQ(ReadableTitle("2020.pdf"), "2020");
}

TEST(TextTest, ChannelIds) {
  EXPECT_EQ(ChannelIdFromName("Science Grade 5"), "science-grade-5");
  EXPECT_EQ(ChannelIdFromName("Sciences — Élèves"), "sciences-eleves");
  EXPECT_TRUE(IsValidChannelId("water-cycle"));
  EXPECT_FALSE(IsValidChannelId("Water"));
  EXPECT_FALSE(IsValidChannelId(""));
  EXPECT_FALSE(IsValidChannelId("../x"));
}

}  // namespace
}  // namespace outpost

namespace outpost {

TEST(TextTest, SanitizingKeepsValidTextAndReplacesEachBadByteWhetherCopiedOrMoved) {
  std::string good = "l'élève lit الماء";
  EXPECT_EQ(SanitizeUtf8(std::string_view(good)), good);
  std::string moved = good;
  EXPECT_EQ(SanitizeUtf8(std::move(moved)), good);
  std::string bad = "a\xff" "b\xc3";
  EXPECT_EQ(SanitizeUtf8(std::string_view(bad)), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8(std::string(bad)), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

}  // namespace outpost
