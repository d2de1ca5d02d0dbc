#include "gatekeeper/admission/admission.h"

namespace gk {

void AdmissionStep::configure(std::size_t max_header_bytes, std::size_t max_frames,
                              bool forward_transactional) {
  decoder_.set_max_bytes(max_header_bytes);
  max_frames_ = max_frames;
  forward_transactional_ = forward_transactional;
}

Admission AdmissionStep::screen(const PendingMessage& p) {
  Admission a;
  header_ = MessageHeader{};
  const MessageHeader& h = header_;
  const HeaderStatus status = decoder_.decode(p.frames[0].data(), p.frames[0].size(), header_);
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
  input_ = DecisionInput{};
  input_.channel_known = true;
  input_.channel_index = *channel;
  input_.require_address = channels_.config(*channel).require_address;
  input_.has_address = h.has_address();
  input_.realtime_transactional = h.realtime_transactional();
  input_.forward_transactional_without_status = forward_transactional_;
  if (h.has_topic) {
    input_.has_topic = true;
    const TopicRegistry& topics = channels_.topics();
    if (const auto t = topics.find(h.topic); t && topics.allowed_on(*t, *channel)) {
      input_.topic_known = true;
      input_.topic_index = *t;
      input_.topic_default = topics.at(*t).policy;
    } else {
      // Rejected on its face: no lookup needed.
      a.decision.reason = Reason::kUnknownTopic;
      return a;
    }
  }
  if (addresses_ != nullptr && addresses_->active()) {
    const AddressCheck::Verdict v =
        addresses_->check(channels_.name(*channel), h.bu, h.user_id, h.email, h.to);
    if (v.erased) {
      // Erased: nothing the store holds could change the verdict.
      input_.erased = true;
      return decide_with(nullptr, *channel);
    }
    input_.address = v.address;
  }
  a.kind = Admission::Kind::kNeedsFetch;
  return a;
}

Admission AdmissionStep::decide_with(const OptOutRecord* status, std::size_t channel) {
  input_.status = status;
  const Verdict v = decide(input_);
  input_.status = nullptr;  // `status` lives on the caller's stack
  Admission a;
  a.channel = channel;
  if (v.action == Action::kForward) {
    a.kind = Admission::Kind::kForward;
    return a;
  }
  const std::string_view topic =
      input_.topic_known ? std::string_view(channels_.topics().at(input_.topic_index).name)
                         : std::string_view();
  a.decision = Decision{header_.id, channels_.name(channel), v.action, v.reason, {}, topic};
  return a;
}

Decision AdmissionStep::give_up(const PendingMessage& p, Reason reason, std::string_view detail) {
  header_ = MessageHeader{};
  (void)decoder_.decode(p.frames[0].data(), p.frames[0].size(), header_);
  const auto channel = channels_.find_routable(header_.channel);
  return Decision{
      header_.id,      channel ? std::string_view(channels_.name(*channel)) : header_.channel,
      Action::kReject, reason,
      detail,          {}};
}

}  // namespace gk
