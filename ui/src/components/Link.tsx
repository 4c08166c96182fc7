/**
 * Links inside the app: wouter's <Link> (history navigation, the base prefix added) for plain
 * clicks; modified clicks open the real URL as the browser would.
 */
import type { ComponentChildren } from 'preact';
import { Link as RouterLink } from 'wouter-preact';

interface Props {
  href: string;
  children: ComponentChildren;
  class?: string;
  rel?: string;
  title?: string;
  'aria-current'?: 'page' | undefined;
  'aria-label'?: string;
}

export function Link({ href, children, class: className, ...rest }: Props) {
  return (
    <RouterLink href={href} {...(className !== undefined && { className })} {...rest}>
      {children}
    </RouterLink>
  );
}

/** The UI's route of a repository (name components kept readable). */
export function repoHref(name: string): string {
  return `/r/${name}`;
}

/** A tag or a digest of a repository: both are safe in a path as they are. */
export function tagHref(name: string, reference: string): string {
  return `/r/${name}/tag/${reference}`;
}
