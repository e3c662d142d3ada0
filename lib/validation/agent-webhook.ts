import { z } from 'zod';
import { idSchema } from './common';

export const MAX_WEBHOOK_URL_LENGTH = 2_000;

/** An agent account's webhook: an http(s) URL, or empty to remove it. */
export const SetAgentWebhookSchema = z.object({
  accountId: idSchema,
  url: z
    .string({ error: 'Give the webhook URL, or leave it empty to remove the webhook.' })
    .trim()
    .max(MAX_WEBHOOK_URL_LENGTH, `A webhook URL can have at most ${MAX_WEBHOOK_URL_LENGTH} characters.`)
    .refine((v) => v === '' || /^https?:\/\/[^\s]+$/i.test(v), 'The webhook URL must be an http:// or https:// URL.'),
});
export type SetAgentWebhookInput = z.infer<typeof SetAgentWebhookSchema>;
