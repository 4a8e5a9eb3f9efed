-- A stack's pollutant alerts are scoped to one species of the stack, ``stack:<stack>.<species>``
-- (streams/device_alerts.py): 0100's view looked that whole id up as a stack id and found no
-- enterprise, so the stack's own enterprise never saw them. A stack scope now names the stack
-- whose id is the scope id or its prefix before a '.' (the longest such id, as ids may hold
-- dots), and a point scope falls back to a stack's species point the same way.
CREATE OR REPLACE VIEW console_alert_events AS
SELECT a.*,
       split_part(a.scope, ':', 1) AS scope_kind,
       substr(a.scope, length(split_part(a.scope, ':', 1)) + 2) AS scope_id,
       CASE split_part(a.scope, ':', 1)
           WHEN 'enterprise' THEN substr(a.scope, 12)
           WHEN 'stack' THEN (SELECT s.enterprise FROM console_stacks s
                              WHERE s.id = substr(a.scope, 7)
                                 OR left(substr(a.scope, 7), length(s.id) + 1) = s.id || '.'
                              ORDER BY length(s.id) DESC LIMIT 1)
           WHEN 'device' THEN (SELECT d.enterprise FROM console_devices d WHERE d.id = substr(a.scope, 8))
           WHEN 'point' THEN COALESCE(
               (SELECT p.enterprise FROM console_points p WHERE p.id = substr(a.scope, 7)),
               (SELECT s.enterprise FROM console_stacks s
                WHERE left(substr(a.scope, 7), length(s.id) + 1) = s.id || '.'
                ORDER BY length(s.id) DESC LIMIT 1))
       END AS enterprise
FROM alerts a;
