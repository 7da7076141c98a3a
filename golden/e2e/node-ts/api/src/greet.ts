export function greet(greeting?: string): string {
  return (greeting || "hello") + "!";
}
