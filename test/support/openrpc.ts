/**
 * Checking the OpenRPC document and answers against it with ajv, as a client's
 * tooling would: the document against the OpenRPC meta-schema (its schemas
 * against JSON Schema draft-07), and values against the schemas in the document
 * (`$ref`s into components.schemas resolved).
 */
import { createRequire } from 'node:module'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'

const require = createRequire(import.meta.url)

/** Formats the meta-schemas use; ajv without ajv-formats knows none. */
function withFormats (ajv: Ajv): Ajv {
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S*$/i)
  ajv.addFormat('uri-reference', /^\S*$/)
  ajv.addFormat('regex', { validate: (s: string) => { try { new RegExp(s, 'u'); return true } catch { return false } } })
  return ajv
}

/** Validates a document against @open-rpc/meta-schema, its schemas against draft-07 (the meta-schema's own reference is external). */
export function metaSchemaErrors (doc: unknown): ErrorObject[] {
  const meta = structuredClone(require('@open-rpc/meta-schema').default) as Record<string, any>
  delete meta.$schema
  meta.definitions.JSONSchema = { $ref: 'http://json-schema.org/draft-07/schema#' }
  meta.definitions.referenceObject.properties.$ref = { type: 'string', format: 'uri-reference' }
  const ajv = withFormats(new Ajv({ allErrors: true, strict: false }))
  const validate = ajv.compile(meta)
  return validate(doc) ? [] : validate.errors ?? []
}

let strict: Ajv | undefined

/** Compiles `schema` in strict mode: an unknown keyword, a bad regex or format, fails. */
export function compileStrict (schema: unknown): ValidateFunction {
  strict ??= withFormats(new Ajv({ strict: true, strictTypes: false, allErrors: true }))
  return strict.compile(schema as object)
}

export interface DocumentSchemas {
  /** A method's result validator. */
  result: (method: string) => ValidateFunction
  /** A method's param validator, by param name. */
  param: (method: string, name: string) => ValidateFunction
  /** components.schemas[name]. */
  named: (name: string) => ValidateFunction
}

/** Validators for the schemas in `doc`, `$ref`s resolved against the document. */
export function documentSchemas (doc: any): DocumentSchemas {
  const ajv = withFormats(new Ajv({ allErrors: true, strict: false }))
  ajv.addSchema(doc, 'openrpc')
  const cache = new Map<string, ValidateFunction>()
  const at = (pointer: string): ValidateFunction => {
    let v = cache.get(pointer)
    if (v === undefined) {
      v = ajv.compile({ $ref: `openrpc#${pointer}` })
      cache.set(pointer, v)
    }
    return v
  }
  const index = (method: string): number => {
    const i = doc.methods.findIndex((m: { name: string }) => m.name === method)
    if (i < 0) throw new Error(`no method ${method} in the document`)
    return i
  }
  return {
    result: (method) => at(`/methods/${index(method)}/result/schema`),
    param: (method, name) => {
      const i = index(method)
      const j = doc.methods[i].params.findIndex((p: { name: string }) => p.name === name)
      if (j < 0) throw new Error(`no param ${name} of ${method}`)
      return at(`/methods/${i}/params/${j}/schema`)
    },
    named: (name) => at(`/components/schemas/${name}`)
  }
}

/** ajv's errors as one line, for a failed expectation. */
export const explain = (v: ValidateFunction): string => (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('; ')
