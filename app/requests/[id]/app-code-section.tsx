import type { SectionProps } from './section-props';

/** Update app code: the app branch's schema.prisma against the rehearsed schema (issue 8, projects). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export async function AppCodeSection(props: SectionProps) {
  return null;
}
