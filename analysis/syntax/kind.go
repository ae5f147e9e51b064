package syntax

import (
	"sync"

	sitter "github.com/tree-sitter/go-tree-sitter"

	"github.com/monoflake/monoflake/analysis/syntax/nixgrammar"
)

// Kind is the kind of a syntax node. It is monoflake's own enumeration, so
// code above this package never sees tree-sitter's numeric symbols.
type Kind uint8

// Node kinds of the Nix grammar that analysis looks at. Every other named
// node is Other; anonymous tokens (punctuation, keywords) are Token.
const (
	Other Kind = iota
	Token
	Error
	SourceCode
	Comment
	Identifier
	Variable
	Select
	HasAttr
	Apply
	Function
	Formals
	Formal
	Ellipses
	Attrset
	RecAttrset
	LetAttrset
	Let
	With
	If
	Assert
	List
	Binary
	Unary
	Parenthesized
	String
	IndentedString
	StringFragment
	Interpolation
	EscapeSequence
	Path
	HPath
	SPath
	PathFragment
	URI
	Integer
	Float
	Attrpath
	BindingSet
	Binding
	Inherit
	InheritFrom
	InheritedAttrs
	kindCount
)

var kindNames = [kindCount]string{
	Other: "", Token: "", Error: "ERROR", SourceCode: "source_code", Comment: "comment",
	Identifier: "identifier", Variable: "variable_expression", Select: "select_expression",
	HasAttr: "has_attr_expression", Apply: "apply_expression", Function: "function_expression",
	Formals: "formals", Formal: "formal", Ellipses: "ellipses", Attrset: "attrset_expression",
	RecAttrset: "rec_attrset_expression", LetAttrset: "let_attrset_expression",
	Let: "let_expression", With: "with_expression", If: "if_expression", Assert: "assert_expression",
	List: "list_expression", Binary: "binary_expression", Unary: "unary_expression",
	Parenthesized: "parenthesized_expression", String: "string_expression",
	IndentedString: "indented_string_expression", StringFragment: "string_fragment",
	Interpolation: "interpolation", EscapeSequence: "escape_sequence", Path: "path_expression",
	HPath: "hpath_expression", SPath: "spath_expression", PathFragment: "path_fragment",
	URI: "uri_expression", Integer: "integer_expression", Float: "float_expression",
	Attrpath: "attrpath", BindingSet: "binding_set", Binding: "binding", Inherit: "inherit",
	InheritFrom: "inherit_from", InheritedAttrs: "inherited_attrs",
}

// String returns the grammar's name for the kind.
func (k Kind) String() string {
	if k < kindCount && kindNames[k] != "" {
		return kindNames[k]
	}
	if k == Token {
		return "token"
	}
	return "other"
}

// Field is the role a node plays in its parent (tree-sitter's field names).
type Field uint8

// Fields of the Nix grammar.
const (
	NoField Field = iota
	FieldAlternative
	FieldArgument
	FieldAttr
	FieldAttrpath
	FieldAttrs
	FieldBinding
	FieldBody
	FieldCondition
	FieldConsequence
	FieldDefault
	FieldElement
	FieldEllipses
	FieldEnvironment
	FieldExpression
	FieldFormal
	FieldFormals
	FieldFunction
	FieldLeft
	FieldName
	FieldOperator
	FieldRight
	FieldUniversal
	fieldCount
)

var fieldNames = [fieldCount]string{
	FieldAlternative: "alternative", FieldArgument: "argument", FieldAttr: "attr",
	FieldAttrpath: "attrpath", FieldAttrs: "attrs", FieldBinding: "binding", FieldBody: "body",
	FieldCondition: "condition", FieldConsequence: "consequence", FieldDefault: "default",
	FieldElement: "element", FieldEllipses: "ellipses", FieldEnvironment: "environment",
	FieldExpression: "expression", FieldFormal: "formal", FieldFormals: "formals",
	FieldFunction: "function", FieldLeft: "left", FieldName: "name", FieldOperator: "operator",
	FieldRight: "right", FieldUniversal: "universal",
}

// grammar holds the translation from tree-sitter's numeric symbols and fields
// to Kind and Field. It is computed once and never changes afterwards.
type grammar struct {
	lang   *sitter.Language
	kinds  []Kind  // indexed by tree-sitter symbol id
	fields []Field // indexed by tree-sitter field id
}

var loadGrammar = sync.OnceValue(func() *grammar {
	nixgrammar.UseLibcAllocator()
	lang := nixgrammar.Language()
	g := &grammar{lang: lang}
	g.kinds = make([]Kind, lang.NodeKindCount())
	for id := range g.kinds {
		if !lang.NodeKindIsNamed(uint16(id)) {
			g.kinds[id] = Token
		}
	}
	for k := Kind(0); k < kindCount; k++ {
		if name := kindNames[k]; name != "" {
			if id := lang.IdForNodeKind(name, true); int(id) < len(g.kinds) && id != 0 {
				g.kinds[id] = k
			}
		}
	}
	g.fields = make([]Field, lang.FieldCount()+1)
	for f := Field(1); f < fieldCount; f++ {
		if id := lang.FieldIdForName(fieldNames[f]); int(id) < len(g.fields) && id != 0 {
			g.fields[id] = f
		}
	}
	return g
})
