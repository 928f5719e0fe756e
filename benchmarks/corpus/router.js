export class Router {
  constructor() {
    this.routes = new Map();
  }

  add(method, path, handler) {
    const key = `${method.toUpperCase()} ${path}`;
    this.routes.set(key, handler);
    return this;
  }

  get(path, handler) {
    return this.add("GET", path, handler);
  }

  post(path, handler) {
    return this.add("POST", path, handler);
  }

  async handle(request) {
    const key = `${request.method} ${request.path}`;
    const handler = this.routes.get(key);
    if (!handler) {
      return { status: 404, body: "not found" };
    }
    return handler(request);
  }
}
