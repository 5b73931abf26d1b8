CREATE TABLE `outgoing_webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`bot_id` text NOT NULL,
	`room_id` text NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`secret` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`last_delivered_at` integer,
	`disabled_at` integer,
	FOREIGN KEY (`bot_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outgoing_webhooks_bot_unique` ON `outgoing_webhooks` (`bot_id`);--> statement-breakpoint
CREATE INDEX `outgoing_webhooks_room_idx` ON `outgoing_webhooks` (`room_id`);