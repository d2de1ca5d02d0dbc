#include "gatekeeper/admission/admission.h"

#include "common/rules/identity.h"

namespace gk {

void AdmissionStep::configure(std::size_t max_header_bytes, std::size_t max_frames,
                              bool forward_transactional) {
  ++generation_;
  decoder_.set_max_bytes(max_header_bytes);
  max_frames_ = max_frames;
  forward_transactional_ = forward_transactional;
}

Admission AdmissionStep::screen(PendingMessage& p) {
  Admission a;
  p.screened_in = 0;
  p.header = MessageHeader{};
  const MessageHeader& h = p.header;
  ++decodes_;
  const HeaderStatus status = decoder_.decode(p.frames[0].data(), p.frames[0].size(), p.header);
  a.decision = Decision{h.id, h.channel, Action::kReject, Reason::kMalformed, {}, {}};
  if (status != HeaderStatus::kOk) {
    a.decision.detail = decoder_.detail(status);
    return a;
  }
  if (p.frames.size() > max_frames_) {
    a.decision.detail = "message has more frames than ingress.max_frames";
    return a;
  }
  const auto channel = channels_.find_routable(h.channel);
  if (!channel) {
    a.decision.reason = Reason::kUnknownChannel;
    return a;
  }
  a.channel = *channel;
  a.decision.channel = channels_.name(*channel);
  DecisionInput& in = p.input;
  in = DecisionInput{};
  in.channel_known = true;
  in.channel_index = *channel;
  in.require_address = channels_.config(*channel).require_address;
  in.has_address = h.has_address();
  in.realtime_transactional = h.realtime_transactional();
  in.forward_transactional_without_status = forward_transactional_;
  if (h.has_topic) {
    in.has_topic = true;
    const TopicRegistry& topics = channels_.topics();
    if (const auto t = topics.find(h.topic); t && topics.allowed_on(*t, *channel)) {
      in.topic_known = true;
      in.topic_index = *t;
      in.topic_default = topics.at(*t).policy;
    } else {
      // Rejected on its face: no lookup needed.
      a.decision.reason = Reason::kUnknownTopic;
      return a;
    }
  }
  p.email.clear();
  append_normalized_email(p.email, h.email);
  p.user_hash = h.user_id.empty() ? 0 : person_key_hash(h.bu, h.user_id);
  p.email_hash = p.email.empty() ? 0 : person_key_hash(h.bu, p.email);
  p.channel = *channel;
  p.screened_in = generation_;
  a.kind = Admission::Kind::kNeedsFetch;
  return a;
}

bool AdmissionStep::check_addresses(PendingMessage& p) {
  p.input.erased = false;
  p.input.address = AddressReason::kNone;
  if (addresses_ == nullptr || !addresses_->active()) return false;
  const MessageHeader& h = p.header;
  const AddressCheck::Verdict v =
      addresses_->check(channels_.name(p.channel), h.bu, h.user_id, h.email, h.to);
  p.input.erased = v.erased;
  p.input.address = v.address;
  return v.erased;
}

Admission AdmissionStep::decide_with(PendingMessage& p, const OptOutRecord* status) {
  p.input.status = status;
  const Verdict v = decide(p.input);
  p.input.status = nullptr;  // `status` lives on the caller's stack
  const std::size_t channel = p.channel;
  Admission a;
  a.channel = channel;
  if (v.action == Action::kForward) {
    a.kind = Admission::Kind::kForward;
    return a;
  }
  const std::string_view topic =
      p.input.topic_known ? std::string_view(channels_.topics().at(p.input.topic_index).name)
                          : std::string_view();
  a.decision = Decision{p.header.id, channels_.name(channel), v.action, v.reason, {}, topic};
  return a;
}

Decision AdmissionStep::give_up(const PendingMessage& p, Reason reason, std::string_view detail) {
  if (screened(p)) {
    return Decision{p.header.id, channels_.name(p.channel), Action::kReject, reason, detail, {}};
  }
  header_ = MessageHeader{};
  (void)decoder_.decode(p.frames[0].data(), p.frames[0].size(), header_);
  const auto channel = channels_.find_routable(header_.channel);
  return Decision{
      header_.id,      channel ? std::string_view(channels_.name(*channel)) : header_.channel,
      Action::kReject, reason,
      detail,          {}};
}

}  // namespace gk
