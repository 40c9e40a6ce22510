/**
 * Writing config values into Terraform expressions and templates (conditions and their error
 * messages). Pure. Every value that goes in here has been validated, so none can contain "${" or
 * "%{"; these functions refuse one anyway, because inside a Terraform string such a sequence would
 * be evaluated, and a config value must never become Terraform code.
 */

const TEMPLATE_SYNTAX = /[$%]\{/;

/** `value` unchanged, or an error that starts with `where` ("hclString:") when it holds "${" or "%{". */
export function refuseTemplateSyntax(value: string, where: string): string {
  if (TEMPLATE_SYNTAX.test(value)) throw new Error(`${where} ${JSON.stringify(value)} contains Terraform template syntax ("\${" or "%{")`);
  return value;
}

/** A string literal for a Terraform expression: "..." with JSON escapes, which HCL reads the same way. */
export const hclString = (value: string): string => JSON.stringify(refuseTemplateSyntax(value, 'hclString:'));

/** A literal for a Terraform expression: strings, and objects of them (keys quoted, as HCL allows). */
export function hclLiteral(value: string | { readonly [key: string]: unknown }): string {
  if (typeof value === 'string') return hclString(value);
  const entries = Object.entries(value).map(([key, inner]) => {
    if (typeof inner !== 'string' && (inner === null || typeof inner !== 'object' || Array.isArray(inner))) {
      throw new Error(`hclLiteral: ${key} must be a string or an object of strings`);
    }
    return `${hclString(key)} = ${hclLiteral(inner as string | Record<string, unknown>)}`;
  });
  return `{ ${entries.join(', ')} }`;
}

/** A config value as plain text inside a Terraform template (an error_message). */
export const templateText = (value: string): string => refuseTemplateSyntax(value, 'templateText:');
