CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("target","at");--> statement-breakpoint
CREATE INDEX "vuln_findings_open_severity_idx" ON "vuln_findings" USING btree ("severity","risk_tier","due_at") WHERE "vuln_findings"."closed_at" is null;--> statement-breakpoint
CREATE INDEX "vuln_findings_first_seen_idx" ON "vuln_findings" USING btree ("first_seen_at","closed_reason");--> statement-breakpoint
CREATE INDEX "vuln_findings_closed_idx" ON "vuln_findings" USING btree ("closed_at","first_seen_at","closed_reason") WHERE "vuln_findings"."closed_at" is not null;