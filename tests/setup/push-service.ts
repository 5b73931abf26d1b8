// vitest's globalSetup, in Node: starts the tests' push service on loopback for the whole run and
// tells the tests in workerd its port (`inject('pushServicePort')`). The VAPID key pair is made in
// vitest.config.mts, which gives the worker all three and the service the public key to expect.
import type { TestProject } from 'vitest/node';
import { PushService } from '../support/push-service';

declare module 'vitest' {
	export interface ProvidedContext {
		pushServicePort: number;
	}
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const vapidPublicKey = process.env.PARLEY_TEST_VAPID_PUBLIC_KEY;
	if (!vapidPublicKey) throw new Error('vitest.config.mts sets PARLEY_TEST_VAPID_PUBLIC_KEY');
	const service = await PushService.start({ vapidPublicKey });
	project.provide('pushServicePort', service.port);
	return () => service.close();
}
