CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`actor_id` text,
	`actor_role` text NOT NULL,
	`action` text NOT NULL,
	`target_kind` text NOT NULL,
	`target_id` text NOT NULL,
	`room_id` text,
	`reason` text DEFAULT '' NOT NULL,
	`details` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_created_idx` ON `audit_log` (`created_at`);--> statement-breakpoint
CREATE INDEX `audit_log_room_idx` ON `audit_log` (`room_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_log_target_idx` ON `audit_log` (`target_id`);--> statement-breakpoint
CREATE TABLE `reports` (
	`id` text PRIMARY KEY NOT NULL,
	`reporter_id` text,
	`room_id` text,
	`message_seq` integer,
	`reported_user_id` text,
	`reason` text NOT NULL,
	`details` text DEFAULT '' NOT NULL,
	`message_body` text,
	`created_at` integer NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`resolved_by` text,
	`resolved_at` integer,
	`resolution` text,
	FOREIGN KEY (`reporter_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`reported_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reports_message_unique` ON `reports` (`reporter_id`,`room_id`,`message_seq`) WHERE "reports"."message_seq" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `reports_person_unique` ON `reports` (`reporter_id`,`reported_user_id`) WHERE "reports"."room_id" IS NULL;--> statement-breakpoint
CREATE INDEX `reports_room_status_idx` ON `reports` (`room_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `reports_status_idx` ON `reports` (`status`,`created_at`);--> statement-breakpoint
ALTER TABLE `memberships` ADD `timed_out_until` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `deleted_by` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `expired` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `slow_mode_seconds` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `retention_seconds` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `suspended_at` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `suspended_reason` text;--> statement-breakpoint
ALTER TABLE `users` ADD `suspended_by` text;--> statement-breakpoint
CREATE INDEX `notifications_room_seq_idx` ON `notifications` (`room_id`,`seq`);