#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/protocol/client.h"

namespace gk::ctl {

// A decisions-outlet message as one JSON object: the decision's keys, the original header
// decoded (or its size when it is not msgpack) and the payload's size.
nlohmann::json decision_json(const client::Decision& decision);

// A system event from the PUB socket ([topic, msgpack map]) as one JSON object: the map, or
// the topic and an error when the map cannot be read.
nlohmann::json system_event_json(const std::vector<std::string>& frames);

}  // namespace gk::ctl
