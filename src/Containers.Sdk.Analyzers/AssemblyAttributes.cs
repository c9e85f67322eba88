using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Containers.Sdk.Analyzers;

/// <summary>Finds the container settings attributes on an assembly and the source location of their arguments.</summary>
internal static class AssemblyAttributes
{
    /// <summary>The assembly attributes whose class has the metadata name <paramref name="metadataName"/>, in source order.</summary>
    public static IEnumerable<AttributeData> OfType(Compilation compilation, string metadataName)
    {
        var attributeType = compilation.GetTypeByMetadataName(metadataName);
        if (attributeType is null)
        {
            yield break;
        }

        foreach (var attribute in compilation.Assembly.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, attributeType))
            {
                yield return attribute;
            }
        }
    }

    /// <summary>The location of constructor argument <paramref name="index"/>, or of the attribute when it has no such syntax.</summary>
    public static Location ConstructorArgumentLocation(AttributeData attribute, int index)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax)
        {
            return Location.None;
        }

        var positional = 0;
        foreach (var argument in syntax.ArgumentList?.Arguments ?? default)
        {
            if (argument.NameEquals is null && argument.NameColon is null)
            {
                if (positional == index)
                {
                    return argument.Expression.GetLocation();
                }

                positional++;
            }
        }

        return syntax.GetLocation();
    }

    /// <summary>The location of named argument <paramref name="name"/> (a property set in the attribute), or of the attribute.</summary>
    public static Location NamedArgumentLocation(AttributeData attribute, string name)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax)
        {
            return Location.None;
        }

        foreach (var argument in syntax.ArgumentList?.Arguments ?? default)
        {
            if (argument.NameEquals?.Name.Identifier.ValueText == name)
            {
                return argument.Expression.GetLocation();
            }
        }

        return syntax.GetLocation();
    }

    /// <summary>The value of constructor argument <paramref name="index"/> when it is a constant of type <typeparamref name="T"/>.</summary>
    public static bool TryGetConstructorArgument<T>(AttributeData attribute, int index, out T value)
    {
        if (index < attribute.ConstructorArguments.Length && attribute.ConstructorArguments[index].Value is T typed)
        {
            value = typed;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>The value of named argument <paramref name="name"/>, or <paramref name="fallback"/> when it is not set.</summary>
    public static string? NamedString(AttributeData attribute, string name, string? fallback)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == name)
            {
                return pair.Value.Value as string;
            }
        }

        return fallback;
    }
}
