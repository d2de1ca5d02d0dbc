#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace gk {

// The counters of the status-management side (events, API, status writes, system events),
// declared once here. Families are thread-safe; label values are bounded by construction
// (event names outside the known ones are counted as "other").
struct ManagementMetrics {
  explicit ManagementMetrics(prometheus::Registry& registry)
      : event_bodies(prometheus::BuildCounter()
                         .Name("gk_event_bodies_total")
                         .Help("Event bodies by transport (socket, http) and result (ok, invalid).")
                         .Register(registry)),
        events(prometheus::BuildCounter()
                   .Name("gk_events_total")
                   .Help("Events by name (known names, else \"other\") and result (accepted, "
                         "rejected, store_unavailable).")
                   .Register(registry)),
        status_changes(prometheus::BuildCounter()
                           .Name("gk_status_changes_total")
                           .Help("Status writes by source (api, event, esp) and changed (true: "
                                 "the stored value flipped; false: same value or older change).")
                           .Register(registry)),
        store_errors(prometheus::BuildCounter()
                         .Name("gk_status_store_errors_total")
                         .Help("Failed status-store operations by operation (write, read, "
                               "stream).")
                         .Register(registry)),
        system_events(prometheus::BuildCounter()
                          .Name("gk_system_events_total")
                          .Help("System events by sink (pub, stream) and result (ok, error).")
                          .Register(registry)),
        http_requests(prometheus::BuildCounter()
                          .Name("gk_http_requests_total")
                          .Help("API requests by route template and status code.")
                          .Register(registry)),
        timestamps_clamped(prometheus::BuildCounter()
                               .Name("gk_change_timestamps_clamped_total")
                               .Help("Changes dated past now + changes.max_future_ms, stored "
                                     "with the time of receipt instead, by source.")
                               .Register(registry)),
        links_refused(prometheus::BuildCounter()
                          .Name("gk_links_refused_total")
                          .Help("Status writes whose email was not linked because the user "
                                "has identity.max_emails_per_user emails, by source.")
                          .Register(registry)) {}

  prometheus::Family<prometheus::Counter>& event_bodies;
  prometheus::Family<prometheus::Counter>& events;
  prometheus::Family<prometheus::Counter>& status_changes;
  prometheus::Family<prometheus::Counter>& store_errors;
  prometheus::Family<prometheus::Counter>& system_events;
  prometheus::Family<prometheus::Counter>& http_requests;
  prometheus::Family<prometheus::Counter>& timestamps_clamped;
  prometheus::Family<prometheus::Counter>& links_refused;
};

}  // namespace gk
