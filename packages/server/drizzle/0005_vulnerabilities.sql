CREATE TABLE "group_tiers" (
	"group_name" text PRIMARY KEY NOT NULL,
	"risk_tier" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "host_attributes" (
	"host_id" uuid PRIMARY KEY NOT NULL,
	"risk_tier" integer,
	"site" text
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "vuln_advisories" (
	"source" text NOT NULL,
	"id" text NOT NULL,
	"aliases" jsonb NOT NULL,
	"modified" timestamp with time zone NOT NULL,
	"published" timestamp with time zone,
	"withdrawn" timestamp with time zone,
	"summary" text,
	"severity" text NOT NULL,
	"severity_score" double precision,
	"severity_source" text NOT NULL,
	"severity_detail" text NOT NULL,
	"content_hash" text NOT NULL,
	"imported_at" timestamp with time zone NOT NULL,
	CONSTRAINT "vuln_advisories_source_id_pk" PRIMARY KEY("source","id")
);
--> statement-breakpoint
CREATE TABLE "vuln_affected" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"advisory_id" text NOT NULL,
	"ecosystem" text NOT NULL,
	"name" text NOT NULL,
	"keyed_by" text NOT NULL,
	"ranges" jsonb NOT NULL,
	"versions" jsonb NOT NULL,
	"end_of_life" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vuln_feeds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"location" text NOT NULL,
	"cron" text NOT NULL,
	"last_run_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vuln_findings" (
	"host_id" uuid NOT NULL,
	"source" text NOT NULL,
	"advisory_id" text NOT NULL,
	"package_name" text NOT NULL,
	"installed_version" text NOT NULL,
	"fixed_version" text,
	"severity" text NOT NULL,
	"risk_tier" integer NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"last_matched_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_reason" text,
	"explanation" jsonb NOT NULL,
	CONSTRAINT "vuln_findings_host_id_source_advisory_id_package_name_pk" PRIMARY KEY("host_id","source","advisory_id","package_name")
);
--> statement-breakpoint
CREATE TABLE "vuln_imports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"location" text NOT NULL,
	"actor" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"counts" jsonb NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "vuln_matched" (
	"software_id" bigint NOT NULL,
	"os_ecosystem" text NOT NULL,
	CONSTRAINT "vuln_matched_software_id_os_ecosystem_pk" PRIMARY KEY("software_id","os_ecosystem")
);
--> statement-breakpoint
CREATE TABLE "vuln_matches" (
	"software_id" bigint NOT NULL,
	"os_ecosystem" text NOT NULL,
	"source" text NOT NULL,
	"advisory_id" text NOT NULL,
	"fixed_version" text,
	"explanation" jsonb NOT NULL,
	CONSTRAINT "vuln_matches_software_id_os_ecosystem_source_advisory_id_pk" PRIMARY KEY("software_id","os_ecosystem","source","advisory_id")
);
--> statement-breakpoint
ALTER TABLE "host_attributes" ADD CONSTRAINT "host_attributes_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vuln_findings" ADD CONSTRAINT "vuln_findings_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vuln_matched" ADD CONSTRAINT "vuln_matched_software_id_software_id_fk" FOREIGN KEY ("software_id") REFERENCES "public"."software"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vuln_matches" ADD CONSTRAINT "vuln_matches_software_id_software_id_fk" FOREIGN KEY ("software_id") REFERENCES "public"."software"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "vuln_advisories_severity_idx" ON "vuln_advisories" USING btree ("severity");--> statement-breakpoint
CREATE INDEX "vuln_affected_advisory_idx" ON "vuln_affected" USING btree ("source","advisory_id");--> statement-breakpoint
CREATE INDEX "vuln_affected_name_idx" ON "vuln_affected" USING btree ("name");--> statement-breakpoint
CREATE INDEX "vuln_findings_advisory_idx" ON "vuln_findings" USING btree ("source","advisory_id");--> statement-breakpoint
CREATE INDEX "vuln_findings_open_due_idx" ON "vuln_findings" USING btree ("closed_at","due_at");--> statement-breakpoint
CREATE INDEX "vuln_imports_started_idx" ON "vuln_imports" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "vuln_matches_advisory_idx" ON "vuln_matches" USING btree ("source","advisory_id");