CREATE TABLE "compliance" (
	"host_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"rule" integer NOT NULL,
	"policy_version" integer NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"detail" text NOT NULL,
	"checked_at" timestamp with time zone NOT NULL,
	"since_at" timestamp with time zone NOT NULL,
	CONSTRAINT "compliance_host_id_policy_id_rule_pk" PRIMARY KEY("host_id","policy_id","rule")
);
--> statement-breakpoint
CREATE TABLE "device_marks" (
	"mac" text PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"note" text,
	"marked_by" text NOT NULL,
	"marked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "host_bundles" (
	"host_id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint NOT NULL,
	"content_hash" text NOT NULL,
	"signed" jsonb NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"acked_sequence" bigint
);
--> statement-breakpoint
CREATE TABLE "network_sightings" (
	"mac" text NOT NULL,
	"ip" text NOT NULL,
	"host_id" uuid NOT NULL,
	"interface" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "network_sightings_mac_ip_host_id_pk" PRIMARY KEY("mac","ip","host_id")
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"mode" text NOT NULL,
	"rules" jsonb NOT NULL,
	"targets" jsonb NOT NULL,
	"interval_minutes" integer NOT NULL,
	"quarantine_after_minutes" integer,
	"version" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "policies_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "quarantine_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"host_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"state" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "quarantines" (
	"host_id" uuid PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"sequence" bigint NOT NULL,
	"signed" jsonb NOT NULL,
	"state" text NOT NULL,
	"detail" text,
	"reason" text NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "remediation_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"host_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"policy_version" integer NOT NULL,
	"rule" integer NOT NULL,
	"action" text NOT NULL,
	"ok" boolean NOT NULL,
	"before" text NOT NULL,
	"after" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "compliance" ADD CONSTRAINT "compliance_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_bundles" ADD CONSTRAINT "host_bundles_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_sightings" ADD CONSTRAINT "network_sightings_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine_requests" ADD CONSTRAINT "quarantine_requests_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantines" ADD CONSTRAINT "quarantines_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remediation_events" ADD CONSTRAINT "remediation_events_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "compliance_policy_idx" ON "compliance" USING btree ("policy_id","status");--> statement-breakpoint
CREATE INDEX "network_sightings_mac_idx" ON "network_sightings" USING btree ("mac");--> statement-breakpoint
CREATE INDEX "quarantine_requests_state_idx" ON "quarantine_requests" USING btree ("state");--> statement-breakpoint
CREATE INDEX "remediation_events_host_idx" ON "remediation_events" USING btree ("host_id","at");