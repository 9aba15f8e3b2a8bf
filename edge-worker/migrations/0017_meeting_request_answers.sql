-- No-slot requests on a rules route (issue 15): the request carries the answers and lead fields
-- `/book` carries, the route is resolved with them, and the answers are kept with the request
-- (JSON text, card id -> text) so the admin sees why it reached its queue.
ALTER TABLE meeting_requests ADD COLUMN answers TEXT NOT NULL DEFAULT '{}';
