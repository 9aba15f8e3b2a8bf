-- dynchat D1 schema v6 (issue 15): weighted, fair round robin.
-- queues.rotation: the QueueRouter's rotation state as versioned JSON (dynchat_scheduling's
-- RotationState: order, weights, virtual-time counters, fairness options). NULL for queues
-- written before: read as version 1 from `agents` + `last_agent`, which stay as mirrors.
ALTER TABLE queues ADD COLUMN rotation TEXT;
-- assignment_log.reason: why the chosen agent got the meeting (JSON {"kind": "order" |
-- "weight_correction" | "fairness_correction" | "account_owner" | "nobody_free", "in_order"?}).
ALTER TABLE assignment_log ADD COLUMN reason TEXT;
