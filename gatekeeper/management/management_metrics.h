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
                          .Register(registry)) {}

  prometheus::Family<prometheus::Counter>& event_bodies;
  prometheus::Family<prometheus::Counter>& events;
  prometheus::Family<prometheus::Counter>& status_changes;
  prometheus::Family<prometheus::Counter>& store_errors;
  prometheus::Family<prometheus::Counter>& system_events;
  prometheus::Family<prometheus::Counter>& http_requests;
};

}  // namespace gk
