/** What the registry stores into beyond its volume: the S3 bucket (`StorageBucket`, its dynamic provider `s3Bucket.ts`) and the Redis blob-descriptor cache (`RedisCache`). */
export { RedisCache, type RedisCacheArgs } from "./redisCache";
export { StorageBucket, type StorageBucketArgs } from "./storageBucket";
