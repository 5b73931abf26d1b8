/** A way for an account without a password to confirm it's the owner: a provider round trip. */
export type Reauthentication = { provider: string; label: string; href: string };

/** What the last form post on the account page said to one of its sections. */
export type SectionResult = {
	errors: Record<string, string | undefined>;
	values: Record<string, string | undefined>;
	message: string | null;
	reauthenticate: Reauthentication[];
};

export const EMPTY_RESULT: SectionResult = {
	errors: {},
	values: {},
	message: null,
	reauthenticate: []
};
