/** Kinds of refusal, mapped to HTTP status by the API and to messages by the UI. */
export type DomainErrorCode = 'unauthenticated' | 'forbidden' | 'not_found' | 'invalid' | 'conflict';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** The form field the message belongs next to, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const HTTP_STATUS: Record<DomainErrorCode, number> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  invalid: 422, // well-formed but invalid input, everywhere; only the API's unparseable JSON is 400
  conflict: 409,
};

export const forbidden = (message: string) => new DomainError('forbidden', message);
export const notFound = (what: string) => new DomainError('not_found', `${what} was not found.`);
export const conflict = (message: string) => new DomainError('conflict', message);
