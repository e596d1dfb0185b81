import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import {
  bracketMatching,
  HighlightStyle,
  indentOnInput,
  syntaxHighlighting,
} from '@codemirror/language';
import { Compartment, EditorState, type Extension } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { nix } from '@replit/codemirror-lang-nix';
import { useEffect, useRef } from 'react';

/**
 * The code editor: CodeMirror 6 with Nix highlighting, in a chunk of its own that the editor
 * page loads when a file is opened (the rest of the app never downloads it). Colours come
 * from the stylesheet's custom properties, so it follows light and dark. The diff against
 * the draft's base (`@codemirror/merge`'s unified view) is loaded only when asked for.
 */
export interface CodeEditorProps {
  /** The text to start with; the editor owns the text afterwards. */
  initialDoc: string;
  /** The file's content at the draft's base ('' for a new file), for the diff. */
  original: string;
  showDiff: boolean;
  /** Nix highlighting for `.nix` files, plain text otherwise. */
  language: 'nix' | 'plain';
  /** The accessible name of the text area. */
  label: string;
  readOnly: boolean;
  /** 1-based line to put the cursor on at the start (an error's location). */
  line?: number;
  onChange: (doc: string) => void;
  /** Ctrl/Cmd-S. */
  onSave: () => void;
}

const theme = EditorView.theme({
  // The page's stylesheet does not reach into the shadow root; its custom properties do.
  '&': {
    height: 'var(--editor-height)',
    backgroundColor: 'var(--surface)',
    color: 'var(--text)',
    border: '1px solid var(--border)',
    borderRadius: 'var(--radius)',
    fontSize: '0.92rem',
  },
  '&.cm-focused': { outline: '3px solid var(--focus)', outlineOffset: '2px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
  '.cm-gutters': {
    backgroundColor: 'var(--surface-2)',
    color: 'var(--muted)',
    borderRight: '1px solid var(--border)',
  },
  '.cm-activeLine': { backgroundColor: 'var(--editor-active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--editor-active-line)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground':
    { backgroundColor: 'var(--editor-selection)' },
  '.cm-matchingBracket': { outline: '1px solid var(--muted)' },
});

const highlight = HighlightStyle.define([
  {
    tag: [tags.keyword, tags.operatorKeyword, tags.controlKeyword],
    color: 'var(--syntax-keyword)',
  },
  { tag: [tags.string, tags.special(tags.string), tags.url], color: 'var(--syntax-string)' },
  {
    tag: [tags.comment, tags.lineComment, tags.blockComment],
    color: 'var(--syntax-comment)',
    fontStyle: 'italic',
  },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--syntax-literal)' },
  {
    tag: [
      tags.propertyName,
      tags.attributeName,
      tags.definition(tags.variableName),
      tags.labelName,
    ],
    color: 'var(--syntax-property)',
  },
  { tag: tags.invalid, color: 'var(--bad)' },
]);

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const diff = useRef(new Compartment());
  const editable = useRef(new Compartment());
  // The latest callbacks, read by the editor's listeners (created once).
  const latest = useRef(props);
  useEffect(() => {
    latest.current = props;
  });

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    // CodeMirror adds its styles at run time: into a <style> element in a document, which
    // the controller's Content-Security-Policy (style-src 'self') refuses, but as a
    // constructed stylesheet in a shadow root, which it allows. So the editor lives in one.
    const parent = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
    const { initialDoc, language, label, line } = latest.current;
    const extensions: Extension[] = [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      highlightActiveLine(),
      syntaxHighlighting(highlight),
      theme,
      EditorView.lineWrapping,
      keymap.of([
        { key: 'Mod-s', preventDefault: true, run: () => (latest.current.onSave(), true) },
        // Tab indents; Escape then Tab leaves the editor (CodeMirror's own escape hatch).
        indentWithTab,
        ...defaultKeymap,
        ...historyKeymap,
      ]),
      EditorView.contentAttributes.of({ 'aria-label': label, 'aria-multiline': 'true' }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) latest.current.onChange(update.state.doc.toString());
      }),
      editable.current.of(EditorState.readOnly.of(latest.current.readOnly)),
      diff.current.of([]),
    ];
    if (language === 'nix') extensions.push(nix());
    const state = EditorState.create({ doc: initialDoc, extensions });
    const created = new EditorView({ state, parent, root: parent });
    if (line !== undefined && line >= 1 && line <= state.doc.lines) {
      const at = state.doc.line(line).from;
      created.dispatch({ selection: { anchor: at }, scrollIntoView: true });
      created.focus();
    }
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    view.current?.dispatch({
      effects: editable.current.reconfigure(EditorState.readOnly.of(props.readOnly)),
    });
  }, [props.readOnly]);

  const { showDiff, original } = props;
  useEffect(() => {
    let cancelled = false;
    if (!showDiff) {
      view.current?.dispatch({ effects: diff.current.reconfigure([]) });
      return;
    }
    void import('@codemirror/merge').then(({ unifiedMergeView }) => {
      if (cancelled) return;
      view.current?.dispatch({
        effects: diff.current.reconfigure(
          unifiedMergeView({ original, mergeControls: false, gutter: true }),
        ),
      });
    });
    return () => {
      cancelled = true;
    };
  }, [showDiff, original]);

  return <div ref={host} className="code-editor" data-testid="code-editor" />;
}
