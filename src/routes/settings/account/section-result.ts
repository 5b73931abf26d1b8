/** What the last form post on the account page said to one of its sections. */
export type SectionResult = {
	errors: Record<string, string | undefined>;
	values: Record<string, string | undefined>;
	message: string | null;
};

export const EMPTY_RESULT: SectionResult = { errors: {}, values: {}, message: null };
