-- What agents are told about is written by the database itself, in the transaction of the change it
-- announces, whatever code path made the change: a task that became ready (the task it was blocked by
-- completed, or a new workflow's first task) and a run that ended. Each event fans out to the webhook
-- deliveries of the agent accounts it concerns, and is announced on the channel the event streams
-- (Server-Sent Events) and the webhook dispatcher listen on.

CREATE FUNCTION cutover_task_ready_event(t "tasks") RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO agent_events (type, request_id, task_id, roles, payload)
  SELECT 'task.ready', t.request_id, t.id, t.eligible_roles,
         jsonb_build_object('taskId', t.id, 'subject', t.subject, 'step', t.key, 'position', t.position,
                            'requestId', t.request_id, 'requestNumber', r.number, 'requestTitle', r.title,
                            'eligibleRoles', to_jsonb(t.eligible_roles))
  FROM migration_requests r WHERE r.id = t.request_id;
END $$;

CREATE FUNCTION cutover_tasks_announce() RETURNS trigger LANGUAGE plpgsql AS $$
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
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tasks_announce AFTER INSERT OR UPDATE OF status ON tasks
  FOR EACH ROW EXECUTE FUNCTION cutover_tasks_announce();

CREATE FUNCTION cutover_runs_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status NOT IN ('queued', 'running') AND OLD.status IN ('queued', 'running') THEN
    INSERT INTO agent_events (type, request_id, run_id, roles, account_id, payload)
    VALUES ('run.ended', NEW.request_id, NEW.id, '{}', NEW.requested_by_id,
            jsonb_build_object('runId', NEW.id, 'kind', NEW.kind, 'status', NEW.status, 'requestId', NEW.request_id,
                               'targetId', NEW.target_id));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER runs_announce AFTER UPDATE OF status ON runs
  FOR EACH ROW EXECUTE FUNCTION cutover_runs_announce();

CREATE FUNCTION cutover_agent_events_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_deliveries (id, account_id, event_id, url, next_attempt_at, updated_at)
  SELECT gen_random_uuid(), u.id, NEW.id, u.webhook_url, now(), now()
  FROM users u
  WHERE u.kind = 'agent' AND u.active AND u.paused_at IS NULL AND u.webhook_url IS NOT NULL
    AND (u.agent_roles && NEW.roles OR u.id = NEW.account_id);
  PERFORM pg_notify('cutover_agent_events', NEW.id::text);
  RETURN NULL;
END $$;

CREATE TRIGGER agent_events_fan_out AFTER INSERT ON agent_events
  FOR EACH ROW EXECUTE FUNCTION cutover_agent_events_fan_out();
