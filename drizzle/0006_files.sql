CREATE TABLE `files` (
	`id` text PRIMARY KEY NOT NULL,
	`r2_key` text NOT NULL,
	`uploader_id` text NOT NULL,
	`room_id` text,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`kind` text NOT NULL,
	`size` integer NOT NULL,
	`width` integer,
	`height` integer,
	`placeholder` text,
	`created_at` integer NOT NULL,
	`message_seq` integer,
	FOREIGN KEY (`uploader_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`room_id`) REFERENCES `rooms`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `files_r2_key_unique` ON `files` (`r2_key`);--> statement-breakpoint
CREATE INDEX `files_room_idx` ON `files` (`room_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `files_uploader_idx` ON `files` (`uploader_id`,`size`);