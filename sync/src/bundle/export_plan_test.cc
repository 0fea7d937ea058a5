// What an export plans: whom it is for, each chunk once however many recipients lack it, less
// what earlier drives carry, and the records every drive begins with.
#include "bundle/export_plan.h"

#include <gtest/gtest.h>

#include <set>

#include "bundle/bundle_records.h"
#include "bundle/bundle_test_fixture.h"

namespace outpost::sync {
namespace {

using testing::TempDir;

class ExportPlanTest : public testing::BundleFixture {
 protected:
  // The hub's plan for `sites`, as an export would make it.
  ExportPlan HubPlan(const std::vector<std::string>& sites, const ExportState* earlier = nullptr) {
    ExportPlan plan;
    auto recipients = ChooseRecipients(hub_.db.get(), sites, /*hub=*/true);
    EXPECT_TRUE(recipients.has_value()) << recipients.error().message();
    if (!recipients) return plan;
    plan.recipients = std::move(*recipients);
    Status st = PlanOffers(hub_.paths, hub_.catalog.get(), hub_.db.get(), *LoadIdentity(hub_.paths.node_key),
                           /*hub=*/true, /*full=*/false, &plan);
    EXPECT_TRUE(st.ok()) << st.message();
    PlanPieces(hub_.store.get(), hub_.catalog.get(), false, earlier, &plan);
    return plan;
  }
  static std::vector<std::string> Names(const std::vector<Recipient>& recipients) {
    std::vector<std::string> out;
    for (const Recipient& r : recipients) out.push_back(r.peer.name);
    return out;
  }
};

TEST_F(ExportPlanTest, ASiteWritesForItsHubOnly) {
  for (const std::vector<std::string>& wanted : {std::vector<std::string>{}, {"hub"}}) {
    auto to = ChooseRecipients(site_.db.get(), wanted, /*hub=*/false);
    ASSERT_TRUE(to.has_value()) << to.error().message();
    ASSERT_EQ(to->size(), 1u);
    EXPECT_EQ((*to)[0].peer.key, LoadIdentity(hub_.paths.node_key)->public_key());
    EXPECT_EQ((*to)[0].peer.name, "hub");
  }
  auto other = ChooseRecipients(site_.db.get(), {"ecole-2"}, /*hub=*/false);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kInvalidArgument);
  TempDir alone_dir;
  Node alone(alone_dir.path());
  EXPECT_EQ(ChooseRecipients(alone.db.get(), {}, false).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ExportPlanTest, AHubWritesForTheUnrevokedSitesItIsTold) {
  TempDir two_dir, three_dir;
  Node two(two_dir.path()), three(three_dir.path());
  Enrol(&two, "ecole-2");
  Enrol(&three, "ecole-3");
  ASSERT_TRUE(hub_.db->RevokePeer("ecole-3").ok());
  auto all = ChooseRecipients(hub_.db.get(), {"all", "ecole-2"}, true);
  ASSERT_TRUE(all.has_value()) << all.error().message();
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"ecole-1", "ecole-2"}));  // each once
  auto by_key = ChooseRecipients(hub_.db.get(), {LoadIdentity(two.paths.node_key)->public_key().Hex()}, true);
  ASSERT_TRUE(by_key.has_value());
  EXPECT_EQ(Names(*by_key), std::vector<std::string>{"ecole-2"});
  EXPECT_EQ(ChooseRecipients(hub_.db.get(), {"ecole-3"}, true).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(ChooseRecipients(hub_.db.get(), {}, true).error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ExportPlanTest, EachChunkOnceHoweverManySitesLackIt) {
  TempDir two_dir;
  Node two(two_dir.path());
  Enrol(&two, "ecole-2");
  ExportPlan one = HubPlan({"ecole-1"});
  ExportPlan both = HubPlan({"ecole-1", "ecole-2"});
  ASSERT_FALSE(one.chunks.empty());
  EXPECT_EQ(both.chunks.size(), one.chunks.size());
  std::set<Hash> distinct;
  for (const ChunkRef& c : both.chunks) distinct.insert(c.hash);
  EXPECT_EQ(distinct.size(), both.chunks.size());
  EXPECT_EQ(both.channels, std::vector<std::string>{"water 1"});
  ASSERT_EQ(both.recipients.size(), 2u);
  EXPECT_FALSE(both.recipients[1].offer.trust_list.empty());  // a hub hands out its trust list
}

TEST_F(ExportPlanTest, WhatEarlierDrivesCarryIsLeftOut) {
  ExportPlan whole = HubPlan({"ecole-1"});
  ASSERT_GE(whole.chunks.size(), 2u);
  ExportState earlier;
  for (size_t i = 0; i < whole.chunks.size() / 2; ++i) earlier.chunks.insert(whole.chunks[i].hash);
  ExportPlan rest = HubPlan({"ecole-1"}, &earlier);
  EXPECT_EQ(rest.chunks.size(), whole.chunks.size() - earlier.chunks.size());
  for (const ChunkRef& c : rest.chunks) EXPECT_FALSE(earlier.chunks.count(c.hash)) << c.hash.Hex();
  EXPECT_EQ(rest.recipients[0].offer.versions.size(), 1u);  // the offer goes again
}

TEST_F(ExportPlanTest, EveryDriveBeginsWithTheEnrolTheReceiptAndTheOffers) {
  HubPin pin = *site_.db->Hub();
  pin.pending_code = "abcd-efgh-jkmn-pqrs";  // joined from a file, never online
  ASSERT_TRUE(site_.db->SetHub(pin).ok());
  ExportPlan plan;
  plan.recipients = *ChooseRecipients(site_.db.get(), {}, false);
  auto self = LoadIdentity(site_.paths.node_key);
  ASSERT_TRUE(PlanOffers(site_.paths, site_.catalog.get(), site_.db.get(), *self, false, false, &plan).ok());
  PlanLead(site_.catalog.get(), site_.db.get(), *self, false, &plan);
  ASSERT_EQ(plan.lead.size(), 4u);
  EXPECT_EQ(plan.lead[0].first, kEnrolRecord);
  EXPECT_EQ(plan.lead[1].first, kSeenRecord);  // no stick of its hub taken yet: all zero
  auto seen = DecodeSeenRecord(plan.lead[1].second);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->written_at, 0u);
  auto enrol = DecodeEnrol(plan.lead[0].second);
  ASSERT_TRUE(enrol.has_value());
  EXPECT_EQ(enrol->code, "abcd-efgh-jkmn-pqrs");
  EXPECT_EQ(enrol->node_key, self->public_key());
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_EQ(plan.lead[i].first, i == 2 ? kReceiptRecord : kOfferRecord);
    auto addressed = ReadAddressed(plan.lead[i].second);
    ASSERT_TRUE(addressed.has_value());
    EXPECT_EQ(addressed->to, pin.node_key);
  }
}

}  // namespace
}  // namespace outpost::sync
