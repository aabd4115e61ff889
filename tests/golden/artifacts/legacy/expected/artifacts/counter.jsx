export default function Counter() {
  return <button>1</button>;
}
