// Sending a site's own channels up: see upload.h.
#include "session/upload.h"

#include <map>

#include "offer.h"
#include "session/answer.h"

namespace outpost::sync {

namespace {

Status HubError(std::string_view body) {
  auto error = DecodeError(body);
  if (!error) return error.error();
  return Status(StatusCode::kInvalidArgument, "the hub refused: " + error->message);
}

const char* StateName(ReceiptState state) {
  switch (state) {
    case ReceiptState::kServed: return "served";
    case ReceiptState::kIncomplete: return "incomplete";
    case ReceiptState::kRefused: return "refused";
  }
  return "refused";
}

// Answers the hub's requests until its receipt, showing the progress a few times a second.
class Uploader {
 public:
  Uploader(Catalog* catalog, BlobStore* store, SecureChannel* channel, const Offer& up,
           const SyncOptions& options, SyncSummary* summary);
  Status Run(Status* stopped);

 private:
  void ShowProgress();
  // Asked before each chunk sent: the budget, and a moment to show the progress.
  bool Spent();
  // The budget is spent: tells the hub, and ends the conversation.
  Status StopForBudget(Status* stopped);
  Status TakeReceipt(std::string_view body);

  Catalog* catalog_;
  BlobStore* store_;
  SecureChannel* channel_;
  Link* link_;
  const SyncOptions& options_;
  SyncSummary* summary_;
  SyncProgress progress_;
  const Answerable may_;  // the files of `up`: the hub may ask for nothing else
  const uint64_t sent_before_;
  const Clock::time_point started_ = Clock::now();
  Clock::time_point last_progress_ = started_ - std::chrono::seconds(1);  // the first at once
};

Uploader::Uploader(Catalog* catalog, BlobStore* store, SecureChannel* channel, const Offer& up,
                   const SyncOptions& options, SyncSummary* summary)
    : catalog_(catalog), store_(store), channel_(channel), link_(channel->link()),
      options_(options), summary_(summary), may_(up.versions), sent_before_(link_->bytes_sent()) {
  progress_.uploading = true;
  for (const auto& v : up.versions) {
    for (const auto& f : v.files) progress_.bytes_offered += f.size;
  }
}

void Uploader::ShowProgress() {
  if (!options_.progress || Clock::now() - last_progress_ < std::chrono::milliseconds(250)) return;
  last_progress_ = Clock::now();
  progress_.bytes_sent = link_->bytes_sent() - sent_before_;
  progress_.seconds = std::chrono::duration<double>(last_progress_ - started_).count();
  options_.progress(progress_);
}

bool Uploader::Spent() {
  ShowProgress();
  if (options_.cancelled && options_.cancelled()) return true;
  return options_.budget_bytes != 0 &&
         link_->bytes_sent() + link_->bytes_received() >= options_.budget_bytes;
}

Status Uploader::StopForBudget(Status* stopped) {
  bool cancelled = options_.cancelled && options_.cancelled();
  (cancelled ? summary_->cancelled : summary_->budget_reached) = true;
  (void)channel_->Send(kError, EncodeError({7, cancelled ? "the site's sync was cancelled"
                                                         : "the site's byte budget is spent"}));
  (void)channel_->Flush();
  link_->Linger();
  *stopped = Status(StatusCode::kBusy, cancelled
                                           ? "the sync was cancelled while sending this site's channels"
                                           : "the byte budget was spent sending this site's channels");
  return Status::Ok();
}

Status Uploader::TakeReceipt(std::string_view body) {
  auto receipt = DecodeReceipt(body);
  if (!receipt) return receipt.error();
  for (const auto& e : *receipt) {
    summary_->uploaded.push_back(
        {e.channel_id, static_cast<int64_t>(e.version), StateName(e.state), e.message});
  }
  return Status::Ok();
}

Status Uploader::Run(Status* stopped) {
  for (;;) {
    ShowProgress();
    auto record = channel_->Receive();
    if (!record) {
      *stopped = record.error();
      return Status::Ok();
    }
    if (record->type == kGetPatch && Spent()) return StopForBudget(stopped);
    switch (record->type) {
      case kGetChunks: {
        Status answered = AnswerChunks(store_, catalog_, channel_, record->body, may_, options_.limits,
                                       [this] { return Spent(); });
        if (answered.code() == StatusCode::kBusy) return StopForBudget(stopped);
        OUTPOST_RETURN_IF_ERROR(answered);
        break;
      }
      case kGetPatch:
        OUTPOST_RETURN_IF_ERROR(AnswerPatch(store_, channel_, record->body, may_, options_.limits));
        break;
      case kReceipt:
        return TakeReceipt(record->body);
      case kError:
        *stopped = HubError(record->body);
        return Status::Ok();
      default:
        return Corrupt("unexpected record " + std::to_string(record->type) + " from the hub");
    }
  }
}

}  // namespace

Status Upload(Catalog* catalog, BlobStore* store, SecureChannel* channel, const PublicKey& self,
              const Offer& offer, const SyncOptions& options, SyncSummary* summary,
              Status* stopped) {
  std::map<std::string, uint64_t> hub_serves;
  for (const auto& h : offer.yours) hub_serves[h.channel_id] = h.served;
  Offer up;
  auto versions = OfferChannels(catalog, {nullptr, &self}, hub_serves);
  if (!versions) return versions.error();
  up.versions = std::move(*versions);
  if (up.versions.empty()) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(channel->Send(kOffer, EncodeOffer(up)));
  OUTPOST_RETURN_IF_ERROR(channel->Flush());
  ++summary->round_trips;
  Uploader uploader(catalog, store, channel, up, options, summary);
  return uploader.Run(stopped);
}

}  // namespace outpost::sync
