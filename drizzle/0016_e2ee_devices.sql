CREATE TABLE `e2ee_devices` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`identity_key` text NOT NULL,
	`created_at` integer NOT NULL,
	`approved_by` text,
	`removed_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `e2ee_devices_user_idx` ON `e2ee_devices` (`user_id`);--> statement-breakpoint
CREATE TABLE `e2ee_key_packages` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`key_package` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `e2ee_devices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `e2ee_key_packages_device_idx` ON `e2ee_key_packages` (`device_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `rooms` ADD `encryption` text;