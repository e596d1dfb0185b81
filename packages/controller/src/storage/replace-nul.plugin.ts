import {
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely';

/** U+FFFD, the replacement character. */
const REPLACEMENT = '\uFFFD';

function replaceNul(value: unknown): unknown {
  return typeof value === 'string' && value.includes('\0')
    ? value.replaceAll('\0', REPLACEMENT)
    : value;
}

class NulReplacer extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    const value = replaceNul(node.value);
    return value === node.value ? node : { ...node, value };
  }

  protected override transformPrimitiveValueList(
    node: PrimitiveValueListNode,
  ): PrimitiveValueListNode {
    const values = node.values.map(replaceNul);
    return values.every((v, i) => v === node.values[i]) ? node : { ...node, values };
  }
}

/**
 * PostgreSQL text cannot hold U+0000: a statement carrying one fails as a whole ("invalid
 * byte sequence"), where SQLite stores it. Process output (deployment and build logs, error
 * texts) may contain one, so every string a query sends is passed through here, on both
 * engines alike: U+0000 becomes U+FFFD and both store the same text. JSON written with
 * JSON.stringify is unaffected (it escapes U+0000 as `\u0000`).
 */
export class ReplaceNulPlugin implements KyselyPlugin {
  private readonly replacer = new NulReplacer();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.replacer.transformNode(args.node, args.queryId);
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}
