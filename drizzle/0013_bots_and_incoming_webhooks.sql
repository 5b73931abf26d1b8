CREATE TABLE `incoming_webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`bot_id` text NOT NULL,
	`room_id` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	FOREIGN KEY (`bot_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `incoming_webhooks_bot_unique` ON `incoming_webhooks` (`bot_id`);--> statement-breakpoint
CREATE INDEX `incoming_webhooks_room_idx` ON `incoming_webhooks` (`room_id`);--> statement-breakpoint
ALTER TABLE `users` ADD `kind` text DEFAULT 'person' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `bot_room_id` text;--> statement-breakpoint
ALTER TABLE `users` ADD `bot_created_by` text;--> statement-breakpoint
CREATE INDEX `users_bot_room_idx` ON `users` (`bot_room_id`) WHERE "users"."bot_room_id" is not null;