-- schemadiff plan for schema.yaml (target state b0b3ee42da21d7d5)

-- group 1: 4 schema(s) in state 41f5a234b5f4a6f2: public, user_1, user_2, user_3
BEGIN;
SET LOCAL search_path = public;
ALTER TABLE public.marketplace_tasks ADD COLUMN step_order integer NOT NULL DEFAULT 1;
CREATE INDEX idx_marketplace_tasks_job_order ON public.marketplace_tasks USING btree (job_id, step_order);
COMMIT;
BEGIN;
SET LOCAL search_path = user_1;
ALTER TABLE user_1.marketplace_tasks ADD COLUMN step_order integer NOT NULL DEFAULT 1;
CREATE INDEX idx_marketplace_tasks_job_order ON user_1.marketplace_tasks USING btree (job_id, step_order);
COMMIT;
BEGIN;
SET LOCAL search_path = user_2;
ALTER TABLE user_2.marketplace_tasks ADD COLUMN step_order integer NOT NULL DEFAULT 1;
CREATE INDEX idx_marketplace_tasks_job_order ON user_2.marketplace_tasks USING btree (job_id, step_order);
COMMIT;
BEGIN;
SET LOCAL search_path = user_3;
ALTER TABLE user_3.marketplace_tasks ADD COLUMN step_order integer NOT NULL DEFAULT 1;
CREATE INDEX idx_marketplace_tasks_job_order ON user_3.marketplace_tasks USING btree (job_id, step_order);
COMMIT;

-- group 2: 1 schema(s) in state 36ad7eda21f64cdf: user_7
BEGIN;
SET LOCAL search_path = user_7;
CREATE INDEX idx_marketplace_tasks_job_order ON user_7.marketplace_tasks USING btree (job_id, step_order);
COMMIT;
