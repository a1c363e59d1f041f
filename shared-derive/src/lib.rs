//! The derives of `shared::schema`: a capability's input fields are declared once, on the serde
//! type, and the schema that validates requests and documents the API is derived from them.
//!
//! - `#[derive(Input)]` on a struct with named fields implements `Declared` (its fields, its
//!   schema built once per process) and `FieldType` (the struct as a nested object).
//! - `#[derive(Values)]` on a unit enum implements `FieldType`: a string, one of the variants'
//!   serde names.
//!
//! Names come from serde's own attributes (`rename_all`, `rename`), so serde and the schema
//! cannot disagree; the JSON kind comes from the Rust type (`FieldType`); a field is required
//! unless its type is an `Option` or it has `#[serde(default)]`; its doc comment is its API
//! description; `#[serde(flatten)]` includes the fields of another `Input` (the flattened
//! field's own doc comment stays Rust documentation). Bounds are `#[field(...)]`: `id`, `max_length = N`, `pattern = P`,
//! `one_of = VALUES` (strings), `max_items = N` and `items(...)` (arrays; the string bounds of
//! the items).
//!
//! The generated code names `::shared`; inside `shared` itself `extern crate self as shared`
//! makes that path resolve.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Lit, Meta, Token, Type};

/// Derives `shared::schema::Declared` and `FieldType` for an input struct; see the crate docs.
#[proc_macro_derive(Input, attributes(field))]
pub fn derive_input(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    input_impl(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `shared::schema::FieldType` for a unit enum: a string, one of its serde names.
#[proc_macro_derive(Values)]
pub fn derive_values(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    values_impl(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn input_impl(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    // One static schema per type: a generic type would need one per instantiation.
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "an input type cannot be generic",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "Input derives for structs with named fields; use Values for a unit enum",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "Input derives for structs with named fields",
        ));
    };
    let container = serde_attrs(&input.attrs)?;
    let mut statements = Vec::new();
    for field in &named.named {
        let serde = serde_attrs(&field.attrs)?;
        let bounds = field_attrs(&field.attrs)?;
        let ty = &field.ty;
        if serde.skip {
            if let Some(span) = bounds.first_span() {
                return Err(syn::Error::new(span, "a skipped field has no schema"));
            }
            continue;
        }
        if serde.flatten {
            if let Some(span) = bounds.first_span() {
                return Err(syn::Error::new(
                    span,
                    "a flattened field's bounds belong on the fields of its type",
                ));
            }
            statements.push(quote! {
                fields.extend(<#ty as ::shared::schema::Declared>::fields());
            });
            continue;
        }
        let ident = field.ident.as_ref().expect("named fields have names");
        let json_name = match serde.rename {
            Some(rename) => rename,
            None => {
                let rust_name = ident.to_string();
                let rust_name = rust_name.trim_start_matches("r#");
                match container.rename_all {
                    Some(rule) => rule.apply_to_field(rust_name),
                    None => rust_name.to_string(),
                }
            }
        };
        let required = if serde.default || container.default {
            quote! { field }
        } else {
            quote! {
                if <#ty as ::shared::schema::FieldType>::OPTIONAL { field } else { field.required() }
            }
        };
        let checks = bounds.checks(ty);
        let chain = bounds.chain();
        let describe = description(&field.attrs).map(|text| quote! { .describe(#text) });
        statements.push(quote! {
            #checks
            fields.push({
                let field = <#ty as ::shared::schema::FieldType>::field(#json_name);
                let field = #required;
                field #chain #describe
            });
        });
    }
    Ok(quote! {
        impl ::shared::schema::Declared for #name {
            fn fields() -> ::std::vec::Vec<::shared::schema::Field> {
                let mut fields = ::std::vec::Vec::new();
                #(#statements)*
                fields
            }

            fn schema() -> &'static ::shared::schema::Schema {
                // Built on first use (the Lambda adapter forces it during init), patterns and all.
                static SCHEMA: ::std::sync::LazyLock<::shared::schema::Schema> =
                    ::std::sync::LazyLock::new(|| {
                        ::shared::schema::Schema::new(
                            <#name as ::shared::schema::Declared>::fields(),
                        )
                    });
                &SCHEMA
            }
        }

        impl ::shared::schema::FieldType for #name {
            fn field(name: &'static str) -> ::shared::schema::Field {
                ::shared::schema::Field::object(
                    name,
                    <#name as ::shared::schema::Declared>::fields(),
                )
            }
        }
    })
}

fn values_impl(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a values enum cannot be generic",
        ));
    }
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "Values derives for enums of unit variants",
        ));
    };
    let container = serde_attrs(&input.attrs)?;
    let mut values = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                "Values derives for unit variants only: a JSON string names each",
            ));
        }
        let serde = serde_attrs(&variant.attrs)?;
        if let Some(span) = serde.other {
            return Err(syn::Error::new(
                span,
                "#[serde(other)] accepts any string, which the schema's list of values would refuse",
            ));
        }
        if serde.skip {
            continue;
        }
        values.push(match serde.rename {
            Some(rename) => rename,
            None => {
                let rust_name = variant.ident.to_string();
                let rust_name = rust_name.trim_start_matches("r#");
                match container.rename_all {
                    Some(rule) => rule.apply_to_variant(rust_name),
                    None => rust_name.to_string(),
                }
            }
        });
    }
    Ok(quote! {
        impl ::shared::schema::FieldType for #name {
            fn field(name: &'static str) -> ::shared::schema::Field {
                ::shared::schema::Field::string(name).one_of(&[#(#values),*])
            }
        }

        impl ::shared::schema::Text for #name {}
    })
}

/// The doc comment as one line: each line trimmed, blank lines dropped, joined by spaces.
fn description(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(text) => Some(text.value().trim().to_string()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .filter(|line| !line.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// What the serde attributes of a container, field or variant say about the JSON shape.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<RenameRule>,
    default: bool,
    flatten: bool,
    skip: bool,
    other: Option<Span>,
}

/// Reads the serde attributes the schema depends on; serde itself checks the rest.
fn serde_attrs(attrs: &[Attribute]) -> syn::Result<Serde> {
    let mut serde = Serde::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        let metas = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
        for meta in metas {
            let Some(key) = meta.path().get_ident().map(ToString::to_string) else {
                continue;
            };
            match key.as_str() {
                "rename" => {
                    if let Some(name) = deserialize_name(&meta)? {
                        serde.rename = Some(name);
                    }
                }
                "rename_all" => {
                    if let Some(rule) = deserialize_name(&meta)? {
                        serde.rename_all = Some(RenameRule::parse(&rule, meta.span())?);
                    }
                }
                "default" => serde.default = true,
                "flatten" => serde.flatten = true,
                "skip" | "skip_deserializing" => serde.skip = true,
                "other" => serde.other = Some(meta.span()),
                // The kind comes from the field's type; a custom deserializer hides what it takes.
                "with" | "deserialize_with" => {
                    return Err(syn::Error::new_spanned(
                        meta,
                        "the schema derives a field's JSON kind from its type; a custom deserializer hides it",
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(serde)
}

/// The deserialization name of `rename = "…"` or `rename(deserialize = "…")`.
fn deserialize_name(meta: &Meta) -> syn::Result<Option<String>> {
    match meta {
        Meta::NameValue(nv) => string_literal(&nv.value).map(Some),
        Meta::List(list) => {
            let inner = list
                .parse_args_with(Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated)?;
            inner
                .iter()
                .find(|nv| nv.path.is_ident("deserialize"))
                .map(|nv| string_literal(&nv.value))
                .transpose()
        }
        Meta::Path(path) => Err(syn::Error::new_spanned(path, "expected a name")),
    }
}

fn string_literal(expr: &Expr) -> syn::Result<String> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text.value()),
        other => Err(syn::Error::new_spanned(other, "expected a string literal")),
    }
}

/// serde's `rename_all` rules, applied as serde applies them.
#[derive(Clone, Copy)]
enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn parse(rule: &str, span: Span) -> syn::Result<Self> {
        Ok(match rule {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return Err(syn::Error::new(span, "unknown rename_all rule")),
        })
    }

    /// A field name (snake_case in Rust).
    fn apply_to_field(self, field: &str) -> String {
        match self {
            Self::Lower | Self::Snake => field.to_string(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            Self::Camel => {
                let pascal = Self::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }

    /// A variant name (PascalCase in Rust).
    fn apply_to_variant(self, variant: &str) -> String {
        match self {
            Self::Pascal => variant.to_string(),
            Self::Lower => variant.to_ascii_lowercase(),
            Self::Upper => variant.to_ascii_uppercase(),
            Self::Camel => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            Self::Snake => {
                let mut snake = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        snake.push('_');
                    }
                    snake.push(ch.to_ascii_lowercase());
                }
                snake
            }
            Self::ScreamingSnake => Self::Snake.apply_to_variant(variant).to_ascii_uppercase(),
            Self::Kebab => Self::Snake.apply_to_variant(variant).replace('_', "-"),
            Self::ScreamingKebab => Self::ScreamingSnake
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }
}

/// The `#[field(...)]` bounds of one field (or, inside `items(...)`, of its items).
#[derive(Default)]
struct Bounds {
    id: Option<Span>,
    max_length: Option<(Span, Expr)>,
    pattern: Option<(Span, Expr)>,
    one_of: Option<(Span, Expr)>,
    max_items: Option<(Span, Expr)>,
    items: Option<(Span, Box<Bounds>)>,
}

fn field_attrs(attrs: &[Attribute]) -> syn::Result<Bounds> {
    let mut bounds = Bounds::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("field")) {
        attr.parse_nested_meta(|meta| bounds.parse(&meta, false))?;
    }
    bounds.check_conflicts()?;
    Ok(bounds)
}

impl Bounds {
    fn parse(&mut self, meta: &ParseNestedMeta<'_>, in_items: bool) -> syn::Result<()> {
        let span = meta.path.span();
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let duplicate = || Err(meta.error(format_args!("`{key}` is given twice")));
        match key.as_str() {
            "id" => {
                if self.id.replace(span).is_some() {
                    return duplicate();
                }
            }
            "max_length" | "pattern" | "one_of" | "max_items" => {
                if key == "max_items" && in_items {
                    return Err(meta.error("items(...) takes the string bounds of the items"));
                }
                let value: Expr = meta.value()?.parse()?;
                let slot = match key.as_str() {
                    "max_length" => &mut self.max_length,
                    "pattern" => &mut self.pattern,
                    "one_of" => &mut self.one_of,
                    _ => &mut self.max_items,
                };
                if slot.replace((span, value)).is_some() {
                    return duplicate();
                }
            }
            "items" if !in_items => {
                let mut items = Bounds::default();
                meta.parse_nested_meta(|inner| items.parse(&inner, true))?;
                items.check_conflicts()?;
                if self.items.replace((span, Box::new(items))).is_some() {
                    return duplicate();
                }
            }
            _ => {
                let expected = if in_items {
                    "id, max_length, pattern, one_of"
                } else {
                    "id, max_length, pattern, one_of, max_items, items(...)"
                };
                return Err(meta.error(format_args!(
                    "unknown field attribute `{key}`; expected one of: {expected}"
                )));
            }
        }
        Ok(())
    }

    /// `id` is a length and a pattern already; a second one would silently win or lose.
    fn check_conflicts(&self) -> syn::Result<()> {
        let extra = self.max_length.as_ref().or(self.pattern.as_ref());
        match (self.id, extra) {
            (Some(_), Some((span, _))) => Err(syn::Error::new(
                *span,
                "`id` sets max_length and pattern already (36, UUID_PATTERN)",
            )),
            _ => Ok(()),
        }
    }

    fn first_span(&self) -> Option<Span> {
        self.text_span()
            .or(self.max_items.as_ref().map(|(span, _)| *span))
            .or(self.items.as_ref().map(|(span, _)| *span))
    }

    /// Where the first string bound is written, if any.
    fn text_span(&self) -> Option<Span> {
        self.id
            .or(self.max_length.as_ref().map(|(span, _)| *span))
            .or(self.pattern.as_ref().map(|(span, _)| *span))
            .or(self.one_of.as_ref().map(|(span, _)| *span))
    }

    /// Compile-time checks that each bound fits the field's type, spanned at the bound.
    fn checks(&self, ty: &Type) -> TokenStream2 {
        let mut checks = TokenStream2::new();
        if let Some(span) = self.text_span() {
            checks.extend(quote_spanned! {span=>
                ::shared::schema::__derive::text::<#ty>();
            });
        }
        if let Some(span) = self.max_items.as_ref().map(|(span, _)| *span) {
            checks.extend(quote_spanned! {span=>
                ::shared::schema::__derive::list::<#ty>();
            });
        }
        if let Some((span, items)) = &self.items {
            let span = items.text_span().unwrap_or(*span);
            checks.extend(quote_spanned! {span=>
                ::shared::schema::__derive::text_items::<#ty>();
            });
        }
        checks
    }

    /// The builder calls that set the bounds on `field`.
    fn chain(&self) -> TokenStream2 {
        let mut chain = TokenStream2::new();
        if self.id.is_some() {
            chain.extend(quote! { .id() });
        }
        if let Some((_, max)) = &self.max_length {
            chain.extend(quote! { .max_length(#max) });
        }
        if let Some((_, values)) = &self.one_of {
            chain.extend(quote! { .one_of(#values) });
        }
        if let Some((_, pattern)) = &self.pattern {
            chain.extend(quote! { .pattern(#pattern) });
        }
        if let Some((_, max)) = &self.max_items {
            chain.extend(quote! { .max_items(#max) });
        }
        if let Some((_, items)) = &self.items {
            let inner = items.chain();
            chain.extend(quote! { .items(|item| item #inner) });
        }
        chain
    }
}
