ALTER TABLE "deployments" ADD COLUMN "approved_by_name" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "start_at" timestamp with time zone;