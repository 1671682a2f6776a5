CREATE TABLE "host_updates" (
	"host_id" uuid NOT NULL,
	"manager" text NOT NULL,
	"name" text NOT NULL,
	"arch" text NOT NULL,
	"ecosystem" text NOT NULL,
	"kind" text NOT NULL,
	"installed_version" text,
	"candidate_version" text NOT NULL,
	"origin" text,
	"suite" text,
	"title" text,
	"security" boolean NOT NULL,
	"advisories" jsonb,
	"reboot_likely" boolean,
	CONSTRAINT "host_updates_host_id_manager_name_arch_pk" PRIMARY KEY("host_id","manager","name","arch")
);
--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "updates_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "host_updates" ADD CONSTRAINT "host_updates_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "host_updates_catalogue_idx" ON "host_updates" USING btree ("ecosystem","name","candidate_version");