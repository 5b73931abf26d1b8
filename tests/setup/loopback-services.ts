// vitest's globalSetup, in Node: starts the services outside the app that the tests talk to, on
// loopback, for the whole run, and tells the tests in workerd their ports (`inject(...)`): the
// push service, and the webhook receiver bots' outgoing webhooks are pointed at. The VAPID key
// pair is made in vitest.config.mts, which gives the worker all three and the push service the
// public key to expect.
import type { TestProject } from 'vitest/node';
import { PushService } from '../support/push-service';
import { WebhookReceiver } from '../support/webhook-receiver';

declare module 'vitest' {
	export interface ProvidedContext {
		pushServicePort: number;
		webhookReceiverPort: number;
	}
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const vapidPublicKey = process.env.PARLEY_TEST_VAPID_PUBLIC_KEY;
	if (!vapidPublicKey) throw new Error('vitest.config.mts sets PARLEY_TEST_VAPID_PUBLIC_KEY');
	const [service, receiver] = await Promise.all([
		PushService.start({ vapidPublicKey }),
		WebhookReceiver.start()
	]);
	project.provide('pushServicePort', service.port);
	project.provide('webhookReceiverPort', receiver.port);
	return async () => {
		await Promise.all([service.close(), receiver.close()]);
	};
}
