-- A task handed back (released: in progress or blocked -> pending) is claimable again: announced as
-- task.ready like a task whose blocker completed, when its own blocker (if any) is completed. A
-- blocked task resumed to pending because the step before it reopened is not ready, and stays quiet.
-- A hand-back is announced at most once a minute per task (its event says handedBack): a claim and
-- release loop would otherwise flood every agent of its roles (and their webhooks) with the same news.

-- The event's payload takes extra keys (handedBack) now: one function writes every task.ready.
DROP FUNCTION cutover_task_ready_event("tasks");
CREATE FUNCTION cutover_task_ready_event(t "tasks", extra jsonb DEFAULT '{}') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agent_events (type, request_id, task_id, roles, payload)
  SELECT 'task.ready', t.request_id, t.id, t.eligible_roles,
         jsonb_build_object('taskId', t.id, 'subject', t.subject, 'step', t.key, 'position', t.position,
                            'requestId', t.request_id, 'requestNumber', r.number, 'requestTitle', r.title,
                            'eligibleRoles', to_jsonb(t.eligible_roles)) || extra
  FROM migration_requests r WHERE r.id = t.request_id;
END $$;

CREATE FUNCTION cutover_task_handed_back_event(t "tasks") RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM agent_events e WHERE e.created_at > now() - interval '1 minute' AND e.task_id = t.id
                 AND e.type = 'task.ready' AND e.payload ? 'handedBack') THEN
    PERFORM cutover_task_ready_event(t, '{"handedBack": true}');
  END IF;
END $$;

CREATE OR REPLACE FUNCTION cutover_tasks_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_task "tasks";
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.blocked_by_id IS NULL AND NEW.status = 'pending' THEN
      PERFORM cutover_task_ready_event(NEW);
    END IF;
  ELSIF NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed' THEN
    FOR next_task IN SELECT * FROM tasks WHERE blocked_by_id = NEW.id AND status = 'pending' LOOP
      PERFORM cutover_task_ready_event(next_task);
    END LOOP;
  ELSIF NEW.status = 'pending' AND OLD.status IN ('in_progress', 'blocked')
        AND (NEW.blocked_by_id IS NULL OR EXISTS (SELECT 1 FROM tasks b WHERE b.id = NEW.blocked_by_id AND b.status = 'completed')) THEN
    PERFORM cutover_task_handed_back_event(NEW);
  END IF;
  RETURN NULL;
END $$;
