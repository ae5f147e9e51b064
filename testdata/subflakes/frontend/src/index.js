const backend = process.env.BACKEND_URL || "http://localhost:8080";
console.log(`frontend talking to ${backend}`);
