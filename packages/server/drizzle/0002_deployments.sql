CREATE TABLE "assignments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"deployment_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"wave_index" integer NOT NULL,
	"sequence" integer NOT NULL,
	"state" text NOT NULL,
	"state_reason" text NOT NULL,
	"code" text,
	"not_before" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"signed" jsonb,
	"offered_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL,
	"installed" jsonb,
	"reboot_required" boolean DEFAULT false NOT NULL,
	"verified" boolean DEFAULT false NOT NULL,
	"output" text
);
--> statement-breakpoint
CREATE TABLE "deployment_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"deployment_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text,
	"kind" text NOT NULL,
	"from_state" text,
	"to_state" text,
	"reason" text NOT NULL,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "deployment_waves" (
	"deployment_id" uuid NOT NULL,
	"index" integer NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"started_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"passed_at" timestamp with time zone,
	"halted_reason" text,
	CONSTRAINT "deployment_waves_deployment_id_index_pk" PRIMARY KEY("deployment_id","index")
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"state" text NOT NULL,
	"state_reason" text NOT NULL,
	"spec" jsonb NOT NULL,
	"critical" boolean NOT NULL,
	"emergency" boolean NOT NULL,
	"created_by" uuid NOT NULL,
	"created_by_name" text NOT NULL,
	"approved_by" uuid,
	"approved_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"deadline_at" timestamp with time zone,
	"postmortem" text
);
--> statement-breakpoint
CREATE TABLE "host_groups" (
	"host_id" uuid NOT NULL,
	"group_name" text NOT NULL,
	CONSTRAINT "host_groups_host_id_group_name_pk" PRIMARY KEY("host_id","group_name")
);
--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "assignment_sequence" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_events" ADD CONSTRAINT "deployment_events_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_waves" ADD CONSTRAINT "deployment_waves_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_groups" ADD CONSTRAINT "host_groups_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "assignments_host_sequence" ON "assignments" USING btree ("host_id","sequence");--> statement-breakpoint
CREATE INDEX "assignments_deployment_idx" ON "assignments" USING btree ("deployment_id","wave_index");--> statement-breakpoint
CREATE INDEX "assignments_state_expiry_idx" ON "assignments" USING btree ("state","expires_at");--> statement-breakpoint
CREATE INDEX "deployment_events_deployment_idx" ON "deployment_events" USING btree ("deployment_id","id");--> statement-breakpoint
CREATE INDEX "deployments_state_idx" ON "deployments" USING btree ("state");--> statement-breakpoint
CREATE INDEX "deployments_created_idx" ON "deployments" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "host_groups_group_idx" ON "host_groups" USING btree ("group_name");