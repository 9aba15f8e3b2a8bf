-- dynchat D1 schema v10 (issue 15): routing rules in the assignment log.
-- assignment_log.routed: how a meeting card's routing rules chose the queue, JSON
-- {"card": "<dialogue>/<card>", "rule": <index> | null (the default), "queue": id,
--  "owner": agent id | null (the lead's owner, asked first)}; NULL for a route named directly.
ALTER TABLE assignment_log ADD COLUMN routed TEXT;
